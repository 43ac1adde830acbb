/**
 * DynamoDB requests and capacity units per polled document, for the serverless cost model.
 * A simulated Vélib' (the 1,495 real stations of ../shared/data/velib-2025-10 when present, else a
 * synthetic city of the same size) polled once a minute, through the real pipeline (producer →
 * log → activity and detection consumers) into the DynamoDB store, on dynalite in this process.
 * A middleware on the SDK client counts every request and the capacity units the server reports
 * (ReturnConsumedCapacity: dynalite computes them with DynamoDB's rules: writes per started KB,
 * reads per started 4 KB, halved for eventually consistent reads).
 *
 *   npx tsx bench/dynamodb-requests.ts [--hours 24] [--start-hour 0]
 *
 * Counts do not depend on the machine's load (only the run time does).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { parseStationInformation, parseStationStatus } from '../src/feed/parse/index.js';
import { Pipeline } from '../src/pipeline/index.js';
import { generateDocuments } from '../src/sim/index.js';
import { countCommands, openDynamoStore } from '../src/storage/dynamodb/index.js';
import { queryAll } from '../src/storage/dynamodb/requests.js';
import { numberOption, sharedDir } from './lib.js';

const hours = numberOption('hours', 24);
const startHour = numberOption('start-hour', 0);
const SYSTEM = 'velib';
const velibInfo = path.join(sharedDir, 'data/velib-2025-10/station_information.json');
const stations = existsSync(velibInfo) ? { path: velibInfo } : { synthetic: { count: 1495 } };
// 2025-10-14 00:00 Europe/Paris (a Tuesday), plus the start hour.
const fromSec = 1_760_392_800 + startHour * 3600;

const READ_OPS = new Set(['GetItem', 'Query', 'BatchGetItem']);

async function main(): Promise<void> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = openDynamoStore({ url: `dynamodb://bench?endpoint=${endpoint}` });
  await store.migrate();
  const counter = countCommands(store.clients.client);
  const pipeline = await Pipeline.open({
    store,
    system: SYSTEM,
    timeZone: 'Europe/Paris',
    detector: 'seed',
    minHistoryDays: 7,
    gapThresholdSec: 180,
  });

  let documents = 0;
  let events = 0;
  let firstDoc: Record<string, number> | undefined;
  let lastDoc: { requests: Record<string, number>; units: Record<string, number> } | undefined;
  const started = performance.now();
  for (const d of generateDocuments({
    seed: 1,
    stations,
    shape: 'velib',
    fromSec,
    // One more document: the first of the next day, which rolls the day's activity up.
    toSec: fromSec + hours * 3600 + 60,
    stepSec: 60,
  })) {
    if (d.informationDoc !== undefined) {
      const info = parseStationInformation(d.informationDoc);
      if (info.ok) await pipeline.ingestInformation(info.doc);
    }
    const r = parseStationStatus(d.statusDoc);
    if (!r.ok) continue;
    const before = { ...counter.requests };
    const beforeUnits = { ...counter.capacity };
    const logged = await pipeline.ingestStatus(r.doc);
    if (r.doc.lastUpdatedSec > fromSec + hours * 3600) {
      // Counted apart: the day change (rollup), then out of the steady-state totals.
      const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
        Object.fromEntries(
          Object.entries(a)
            .map(([k, v]): [string, number] => [k, Math.round((v - (b[k] ?? 0)) * 10) / 10])
            .filter(([, v]) => v !== 0),
        );
      lastDoc = { requests: diff(counter.requests, before), units: diff(counter.capacity, beforeUnits) };
      counter.requests = before;
      counter.capacity = beforeUnits;
      continue;
    }
    if (firstDoc === undefined) {
      // The first document adds every station: counted apart, then the steady state.
      firstDoc = { ...counter.requests, events: logged.length, stations: r.doc.stations.length };
      counter.reset();
      continue;
    }
    documents++;
    events += logged.length;
  }
  await pipeline.flush();
  const seconds = (performance.now() - started) / 1000;

  const perDoc = (x: number): number => Math.round((x / documents) * 100) / 100;
  const unitsByOp = { ...counter.capacity };
  const requests = Object.fromEntries(Object.entries(counter.requests).map(([op, n]) => [op, perDoc(n)]));
  let readUnits = 0;
  let writeUnits = 0;
  for (const [op, units] of Object.entries(counter.capacity)) {
    if (READ_OPS.has(op)) readUnits += units;
    else writeUnits += units;
  }
  if (counter.requests['Scan'] !== undefined) throw new Error('a Scan was sent on the hot path');

  // What readers pay: the API and a cold start of the pipeline.
  const readCost = async (name: string, fn: () => Promise<unknown>): Promise<[string, number, number]> => {
    counter.reset();
    await fn();
    const units = Object.values(counter.capacity).reduce((a, b) => a + b, 0);
    const reqs = Object.values(counter.requests).reduce((a, b) => a + b, 0);
    return [name, reqs, Math.round(units * 10) / 10];
  };
  const day = Math.floor((fromSec + 7200) / 86_400);
  const some = (await store.listStationStatus(SYSTEM))[0]!.stationId;
  const reads = [
    await readCost('listStationStatus (warm process)', () => store.listStationStatus(SYSTEM)),
    await (async (): Promise<[string, number, number]> => {
      // A process that has never read the table: image + ring.
      const cold = openDynamoStore({ url: `dynamodb://bench?endpoint=${endpoint}` });
      const coldCounter = countCommands(cold.clients.client);
      await cold.migrate();
      coldCounter.reset();
      await cold.loadDiffState(SYSTEM);
      await cold.close();
      const units = Object.values(coldCounter.capacity).reduce((a, b) => a + b, 0);
      return [
        'loadDiffState (cold process)',
        Object.values(coldCounter.requests).reduce((a, b) => a + b, 0),
        units,
      ];
    })(),
    await readCost('loadActivity, all stations, 1 day', () => store.loadActivity(SYSTEM, day, day)),
    await readCost('loadActivity, 1 station, 1 day', () => store.loadActivity(SYSTEM, day, day, some)),
    await readCost('listStateChanges (50)', () => store.listStateChanges({ system: SYSTEM, limit: 50 })),
    await readCost('listDetectedStates', () => store.listDetectedStates(SYSTEM)),
    await readCost('listStationInfo', () => store.listStationInfo(SYSTEM)),
    await readCost('log.read (1 document)', async () =>
      store.log.read((await store.log.lastOffset()) - 50, 100),
    ),
  ];

  // Bytes stored per kind of item after the day (DynamoDB's item size: names + values).
  const itemBytes = (item: Record<string, unknown>): number => {
    let n = 0;
    for (const [name, v] of Object.entries(item)) {
      n += Buffer.byteLength(name);
      if (typeof v === 'string') n += Buffer.byteLength(v);
      else if (typeof v === 'number') n += Math.ceil(String(v).length / 2) + 1;
      else if (v instanceof Uint8Array) n += v.byteLength;
      else if (v instanceof Set) n += v.size * 5;
      else n += Buffer.byteLength(JSON.stringify(v) ?? '');
    }
    return n;
  };
  const partitionBytes = async (pk: string): Promise<{ items: number; bytes: number }> => {
    const items = await queryAll(store.clients.doc, {
      TableName: 'bench',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
    return { items: items.length, bytes: items.reduce((a, i) => a + itemBytes(i), 0) };
  };
  const storage: Record<string, { items: number; bytes: number }> = {};
  for (const [kind, pk] of [
    ['log', 'LOG'],
    ['dedup hints', `T#${SYSTEM}`],
    ['activity parts', `A#${SYSTEM}`],
    ['activity whole days', `AD#${SYSTEM}`],
    ['diff state (image + ring)', `D#${SYSTEM}`],
    ['checkpoints', 'CK'],
    ['state changes', 'SC'],
  ] as const) {
    storage[kind] = await partitionBytes(pk);
  }
  const perStation = { items: 0, bytes: 0 };
  for (const s of await store.listStationStatus(SYSTEM)) {
    const b = await partitionBytes(`AS#${SYSTEM}#${s.stationId}`);
    perStation.items += b.items;
    perStation.bytes += b.bytes;
  }
  storage['activity station days'] = perStation;

  const result = {
    bench: 'dynamodb-requests',
    stations: firstDoc?.['stations'],
    hours,
    documents,
    eventsPerDocument: perDoc(events),
    requestsPerDocument: requests,
    writeUnitsPerDocument: perDoc(writeUnits),
    unitsPerDocumentByOperation: Object.fromEntries(
      Object.entries(unitsByOp).map(([op, units]) => [op, perDoc(units)]),
    ),
    readUnitsPerDocument: perDoc(readUnits),
    firstDocument: firstDoc,
    dayChangeDocument: lastDoc,
    storedAfterTheDay: storage,
    reads: Object.fromEntries(reads.map(([name, reqs, units]) => [name, { requests: reqs, units }])),
    seconds: Math.round(seconds),
    load: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
  };
  console.log(JSON.stringify(result));
  await store.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

await main();
