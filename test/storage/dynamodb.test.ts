/**
 * The DynamoDB store: the shared contract suite against dynalite through the real AWS SDK, then
 * what only this adapter has — the table definition, no Scan on hot paths, requests per
 * document, concurrent writers, crashes between the requests of one commit.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/events/types.js';
import type { SlotCount } from '../../src/storage/index.js';
import { eventKey } from '../../src/events/types.js';
import { openStore } from '../../src/storage/index.js';
import {
  countCommands,
  openDynamoStore,
  parseDynamoUrl,
  stateChangeFromItem,
  type DynamoStore,
} from '../../src/storage/dynamodb/index.js';
import { ByteReader, ByteWriter } from '../../src/storage/codec/index.js';
import { StationTable } from '../../src/storage/dynamodb/station-table.js';
import { CHUNK_BYTES } from '../../src/storage/dynamodb/checkpoint.js';
import { PoissonDetector } from '../../src/detection/poisson.js';
import type { ActivityView } from '../../src/detection/types.js';
import { batchWrite, queryAll } from '../../src/storage/dynamodb/requests.js';
import { describeStoreContract, change, rented, status } from './contract.js';
import {
  dropTable,
  dynamoUrl,
  freshDynamoStore,
  startDynalite,
  uniqueTable,
  type LocalDynamo,
} from './dynamodb-fixture.js';

let local: LocalDynamo;
const stores: DynamoStore[] = [];
beforeAll(async () => {
  local = await startDynalite();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await local.close();
});

describeStoreContract(
  'dynamodb (dynalite)',
  () => Promise.resolve(freshDynamoStore(local.endpoint)),
  (store) => dropTable(local.endpoint, (store as DynamoStore).table),
);

async function open(table: string): Promise<DynamoStore> {
  const store = openDynamoStore({ url: dynamoUrl(local.endpoint, table) });
  stores.push(store);
  await store.migrate();
  return store;
}

/** Make the client fail (as a process killed there would stop) at the n-th request of `op`. */
function crashAt(client: DynamoDBClient, op: string, n: number): void {
  let seen = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (String(context.commandName).replace(/Command$/, '') === op && ++seen === n)
        throw new Error(`injected crash at ${op} #${n}`);
      return next(args);
    },
    { step: 'initialize', name: `crashAt${op}${n}` },
  );
}

/** One document of `n` stations: a snapshot and a rental at each station that changed. */
function doc(timeSec: number, stations: string[], system = 'velib'): FeedEvent[] {
  return [
    { system, timeSec, type: 'snapshot', stations: stations.length, intervalSec: 60 },
    ...stations.map((s) => rented(s, timeSec, 1, system)),
  ];
}

describe('DynamoDB store: table', () => {
  it('migrate() creates the table: keys (pk, sk), on-demand, stream of new images, TTL on expiresAt', async () => {
    const table = uniqueTable('def');
    const store = openDynamoStore({ url: dynamoUrl(local.endpoint, table) });
    stores.push(store);
    const counter = countCommands(store.clients.client);
    await store.migrate();
    expect(counter.last['CreateTable']).toMatchObject({
      TableName: table,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    });
    // dynalite has neither TTL nor streams: the TTL request is sent and refused as unknown,
    // and the store says so (AWS, and the CDK stack, have both).
    expect(counter.last['UpdateTimeToLive']).toMatchObject({
      TableName: table,
      TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
    });
    expect(store.lastMigration).toEqual({ created: true, ttl: 'unsupported', stream: false });
    const d = await store.clients.client.send(new DescribeTableCommand({ TableName: table }));
    expect(d.Table?.TableStatus).toBe('ACTIVE');
    expect(d.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    await store.migrate();
    expect(counter.requests['CreateTable']).toBe(1);
  });

  it('items carry their TTL: expiresAt = the later of their time and now, plus ttlDays', async () => {
    const table = uniqueTable('ttl');
    const store = openDynamoStore({ url: dynamoUrl(local.endpoint, table, '&ttlDays=7') });
    stores.push(store);
    await store.migrate();
    const now = Math.floor(Date.now() / 1000);
    await store.log.append([rented('a', 1000), rented('b', now + 3600)]);
    const items = await Promise.all(
      ['o0000000000000001', 'o0000000000000002'].map(
        async (sk) =>
          (await store.clients.doc.send(new GetCommand({ TableName: table, Key: { pk: 'LOG', sk } }))).Item!,
      ),
    );
    expect(items[0]!['expiresAt']).toBeGreaterThanOrEqual(now + 7 * 86_400);
    expect(items[0]!['expiresAt']).toBeLessThan(now + 7 * 86_400 + 60);
    expect(items[1]!['expiresAt']).toBe(now + 3600 + 7 * 86_400);
  });

  it('refuses to work before migrate(), and a table that is not a dockwatch table', async () => {
    const store = freshDynamoStore(local.endpoint);
    stores.push(store);
    await expect(store.log.lastOffset()).rejects.toThrow(/call store.migrate\(\) first/);
    const none = openDynamoStore({ url: dynamoUrl(local.endpoint, uniqueTable('none'), '&create=0') });
    stores.push(none);
    await expect(none.migrate()).rejects.toThrow(/does not exist \(create=0/);
    // With create=0 an existing table is used as the stack made it: not created, TTL not touched.
    const table = uniqueTable('stack');
    await open(table);
    const deployed = openDynamoStore({ url: dynamoUrl(local.endpoint, table, '&create=0') });
    stores.push(deployed);
    const counter = countCommands(deployed.clients.client);
    await deployed.migrate();
    expect(Object.keys(counter.requests).sort()).toEqual(['DescribeTable', 'GetItem']);
    expect(deployed.lastMigration).toEqual({ created: false, ttl: 'not checked', stream: false });
  });

  it('parses its URL and names what is wrong', () => {
    expect(
      parseDynamoUrl('dynamodb://dockwatch?region=eu-west-1&endpoint=http://127.0.0.1:8000&ttlDays=30'),
    ).toEqual({
      table: 'dockwatch',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:8000',
      ttlDays: 30,
      create: true,
    });
    expect(parseDynamoUrl('dynamodb://t-1.x?create=0&region=us-east-1').create).toBe(false);
    expect(() => parseDynamoUrl('dynamodb://a')).toThrow(/table name/);
    expect(() => parseDynamoUrl('dynamodb://table?ttl=3')).toThrow(/unknown parameter "ttl"/);
    expect(() => parseDynamoUrl('dynamodb://table?ttlDays=-1')).toThrow(/ttlDays/);
    expect(() => parseDynamoUrl('dynamodb://table?endpoint=localhost:8000')).toThrow(/endpoint/);
  });

  it('openStore() opens and migrates it by URL', async () => {
    const table = uniqueTable('open');
    const store = await openStore(dynamoUrl(local.endpoint, table));
    await store.log.append([rented('a', 1)]);
    expect(await store.log.lastOffset()).toBe(1);
    await store.close();
    await dropTable(local.endpoint, table);
  });
});

describe('DynamoDB store: packed items', () => {
  it("an item's station table keeps every key as it was, integers in a few bytes", () => {
    const keys = [
      '0',
      '007',
      '16107',
      '213688169',
      '19179944124',
      '999999999999999',
      '1000000000000000',
      'é-1',
      '-3',
      ' 1',
    ];
    const table = new StationTable();
    for (const k of keys) table.add(k);
    const w = new ByteWriter();
    table.write(w);
    const back = StationTable.read(new ByteReader(Buffer.from(w.view())));
    expect(back.keys).toEqual(keys);
    expect(back.stationKey(5)).toBe('19179944124');
    // 11 digits in 6 bytes instead of 12; the 16-digit one stays text (beyond exact doubling).
    const one = new StationTable();
    one.add('19179944124');
    const w1 = new ByteWriter();
    one.write(w1);
    expect(w1.view().length).toBe(1 + 6);
  });
});

describe('DynamoDB store: requests', () => {
  it('a live document costs a fixed handful of requests, none of them a Scan', async () => {
    const store = await open(uniqueTable('req'));
    const counter = countCommands(store.clients.client);
    const stations = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const perDoc: Record<string, number>[] = [];
    let offset = 0;
    for (let d = 0; d < 70; d++) {
      counter.reset();
      const t = 1_760_000_000 + d * 60;
      const changed = stations.filter((_, i) => (i + d) % 7 === 0);
      const out = await store.commitDiff('velib', doc(t, changed), {
        lastDocumentSec: t,
        changed: changed.map((s) => status(s, d % 9)),
        removed: [],
        capacities: new Map(stations.map((s) => [s, 20])),
      });
      const commitDiff = { ...counter.requests };
      const events = await store.log.read(offset, 1000);
      expect(events).toEqual(out);
      offset = out[out.length - 1]!.offset;
      counter.reset();
      await store.commitActivity(
        'velib',
        'activity',
        offset,
        changed.map((s) => ({ stationId: s, day: 20_300, slot: Math.floor(d / 10), rented: 1, returned: 0 })),
      );
      const commitActivity = { ...counter.requests };
      counter.reset();
      await store.commitDetection(
        'detector:velib:seed',
        offset,
        d === 5 ? [change({ stationId: 's1', timeSec: t, offset })] : [],
      );
      perDoc.push(commitDiff);
      if (d > 0) {
        // The intent (offset + increments) in one UpdateItem, the slot's part in one PutItem.
        expect(commitActivity).toEqual({ UpdateItem: 1, PutItem: 1 });
        // No change: the offset alone; a change: its id, the intent, its key, itself, the intent cleared.
        expect(counter.requests).toEqual(d === 5 ? { UpdateItem: 3, PutItem: 2 } : { UpdateItem: 1 });
      }
      expect(counter.requests['Scan']).toBeUndefined();
    }
    // Document 0 loads the (empty) state and reads the log head; then: hint UpdateItem, log
    // PutItem, delta PutItem — and every 64th commit the image PutItem too.
    expect(perDoc[0]).toEqual({ GetItem: 2, Query: 2, UpdateItem: 1, PutItem: 2 });
    expect(perDoc[1]).toEqual({ UpdateItem: 1, PutItem: 2 });
    expect(perDoc[63]).toEqual({ UpdateItem: 1, PutItem: 3 });
    // Reads of the API and of a restarted pipeline: Query / GetItem only.
    counter.reset();
    await store.loadDiffState('velib');
    await store.loadActivity('velib', 20_290, 20_300, 's3');
    await store.listStateChanges({ system: 'velib', limit: 10 });
    await store.listDetectedStates('velib');
    await store.listStationInfo('velib');
    await store.loadCheckpoint('detector:velib:seed');
    await store.prune({
      eventsBeforeSec: 1_760_000_000 + 600,
      stateChangesBeforeSec: 0,
      activityBeforeDay: 20_000,
    });
    expect(Object.keys(counter.requests).sort()).toEqual([
      'BatchWriteItem',
      'GetItem',
      'Query',
      'UpdateItem',
    ]);
  });
});

describe('DynamoDB store: several writers, crashes', () => {
  it('two processes appending the same documents at once store each event once, offsets gapless', async () => {
    const table = uniqueTable('race');
    const [a, b] = [await open(table), await open(table)];
    const docs = Array.from({ length: 12 }, (_, d) => doc(1000 + d * 60, ['x', 'y', `z${d}`]));
    await Promise.all([
      (async () => {
        for (const events of docs) await a.log.append(events);
      })(),
      (async () => {
        for (const events of docs) await b.log.append(events);
      })(),
    ]);
    const all = await a.log.read(0, 1000);
    expect(all.map((e) => e.offset)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expect(new Set(all.map((e) => eventKey(e))).size).toBe(48);
  });

  it('an append larger than one item is split across items, read back whole, deduplicated whole', async () => {
    const store = await open(uniqueTable('big'));
    const events: FeedEvent[] = Array.from({ length: 3000 }, (_, i) => ({
      system: 'velib',
      timeSec: 5000,
      stationId: `station-${100_000 + i}`,
      type: 'station_added',
      flags: { installed: true, renting: true, returning: true },
      info: {
        stationId: `station-${100_000 + i}`,
        code: String(100_000 + i),
        name: `Rue de la Station numéro ${i} - Paris ${i % 20}e arrondissement`,
        lat: 48.8 + i / 1e4,
        lon: 2.3 + i / 1e4,
        capacity: 20 + (i % 30),
      },
      after: {
        bikes: { mechanical: 1, electric: 2, other: 0 },
        docksAvailable: 3,
        bikesDisabled: 0,
        docksDisabled: 0,
      },
    }));
    const out = await store.log.append(events);
    expect(out).toHaveLength(3000);
    const items = await store.clients.doc.send(
      new GetCommand({ TableName: store.table, Key: { pk: 'LOG', sk: 'o0000000000000001' } }),
    );
    expect(items.Item!['n']).toBeLessThan(3000);
    expect(await store.log.read(0, 5000)).toEqual(out);
    expect(await store.log.append(events)).toEqual([]);
    expect(await store.log.lastOffset()).toBe(3000);
  });

  it('the diff state written by one process loads in another, past the delta ring, and follows it', async () => {
    const table = uniqueTable('ring');
    const writer = await open(table);
    let d = 0;
    const commit = async (): Promise<void> => {
      const id = `s${d % 13}`;
      await writer.commitDiff('velib', [rented(id, 1000 + d * 60)], {
        lastDocumentSec: 1000 + d * 60,
        changed: [status(id, d)],
        removed: d % 17 === 16 ? [`s${(d + 5) % 13}`] : [],
        capacities: new Map([[id, d]]),
      });
      d++;
    };
    while (d < 200) await commit();
    const reader = await open(table);
    expect(await reader.loadDiffState('velib')).toEqual(await writer.loadDiffState('velib'));
    expect((await reader.loadDiffState('velib')).lastDocumentSec).toBe(1000 + 199 * 60);
    // A warm reader reads only the ring slots after its copy: a GetItem each, then one not there yet.
    const counter = countCommands(reader.clients.client);
    for (let k = 0; k < 3; k++) await commit();
    const after3 = await reader.loadDiffState('velib');
    expect(counter.requests).toEqual({ GetItem: 4 });
    expect(after3).toEqual(await writer.loadDiffState('velib'));
    // Far behind (more than the ring holds): the image and the ring again.
    while (d < 400) await commit();
    expect(await reader.listStationStatus('velib')).toEqual(await writer.listStationStatus('velib'));
    expect(await reader.loadDiffState('velib')).toEqual(await writer.loadDiffState('velib'));
  });

  it('activity rolls up past days and reads back what was written, in another process, today included', async () => {
    const table = uniqueTable('roll');
    const writer = await open(table);
    const reference = new Map<string, SlotCount>();
    const key = (c: { stationId: string; day: number; slot: number }): string =>
      `${c.stationId}/${c.day}/${c.slot}`;
    let seed = 11;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let offset = 0;
    const commit = async (day: number, slot: number): Promise<void> => {
      const increments: SlotCount[] = Array.from({ length: 3 }, () => ({
        stationId: `s${Math.floor(random() * 6)}`,
        day,
        slot,
        rented: Math.floor(random() * 3),
        returned: Math.floor(random() * 3),
      }));
      await writer.commitActivity('velib', 'activity', ++offset, increments);
      for (const c of increments) {
        const old = reference.get(key(c)) ?? { ...c, rented: 0, returned: 0 };
        reference.set(key(c), { ...old, rented: old.rented + c.rented, returned: old.returned + c.returned });
      }
    };
    for (let day = 20_000; day < 20_004; day++)
      for (let slot = 0; slot < 144; slot += 37) for (let k = 0; k < 2; k++) await commit(day, slot);
    const sorted = (rows: SlotCount[]): SlotCount[] => [...rows].sort((a, b) => key(a).localeCompare(key(b)));
    const expected = (from: number, to: number, station?: string): SlotCount[] =>
      sorted(
        [...reference.values()].filter(
          (c) => c.day >= from && c.day <= to && (station ?? c.stationId) === c.stationId,
        ),
      );
    const reader = await open(table);
    const rolled = await reader.clients.doc.send(
      new GetCommand({ TableName: table, Key: { pk: 'META', sk: 'rolled#velib' } }),
    );
    expect(rolled.Item?.['day']).toBe(20_002);
    expect(sorted(await reader.loadActivity('velib', 20_000))).toEqual(expected(20_000, 20_003));
    expect(sorted(await reader.loadActivity('velib', 20_001, 20_002))).toEqual(expected(20_001, 20_002));
    expect(sorted(await reader.loadActivity('velib', 19_990, 20_003, 's2'))).toEqual(
      expected(0, 20_003, 's2'),
    );
    // Today moves on: the reader's copy of today's parts follows.
    await commit(20_003, 140);
    await commit(20_003, 143);
    expect(sorted(await reader.loadActivity('velib', 20_003, 20_003, 's1'))).toEqual(
      expected(20_003, 20_003, 's1'),
    );
    expect(sorted(await reader.loadActivity('velib', 20_000))).toEqual(expected(20_000, 20_003));
  });

  it('prune drops rolled-up days too: whole days, station days, parts', async () => {
    const store = await open(uniqueTable('prune-roll'));
    let offset = 0;
    for (let day = 30_000; day < 30_004; day++) {
      await store.commitActivity('velib', 'activity', ++offset, [
        { stationId: 'a', day, slot: 1, rented: 1, returned: 0 },
        { stationId: 'b', day, slot: 1, rented: 0, returned: 2 },
        { stationId: 'a', day, slot: 7, rented: 1, returned: 1 },
      ]);
    }
    // Days 30,000 … 30,002 are rolled up (and still in parts): 3 cells each.
    expect(
      await store.prune({ eventsBeforeSec: 0, stateChangesBeforeSec: 0, activityBeforeDay: 30_002 }),
    ).toBe(6);
    expect((await store.loadActivity('velib', 0, undefined, 'a')).map((r) => r.day)).toEqual([
      30_002, 30_002, 30_003, 30_003,
    ]);
    expect(new Set((await store.loadActivity('velib', 0)).map((r) => r.day))).toEqual(
      new Set([30_002, 30_003]),
    );
    const stationDays = await store.clients.doc.send(
      new GetCommand({ TableName: store.table, Key: { pk: 'AS#velib#b', sk: '09007199254770991' } }),
    );
    expect(stationDays.Item).toBeUndefined();
  });

  it('activity: a commit cut short after its commit point is finished, once, by the next process', async () => {
    const table = uniqueTable('act');
    const crashing = await open(table);
    await crashing.commitActivity('velib', 'activity', 5, [
      { stationId: 'a', day: 20_000, slot: 3, rented: 1, returned: 0 },
    ]);
    crashAt(crashing.clients.client, 'PutItem', 2); // the second slot item of the next commit
    await expect(
      crashing.commitActivity('velib', 'activity', 9, [
        { stationId: 'a', day: 20_000, slot: 3, rented: 2, returned: 1 },
        { stationId: 'b', day: 20_000, slot: 4, rented: 5, returned: 0 },
      ]),
    ).rejects.toThrow(/injected crash/);
    const next = await open(table);
    expect(await next.log.consumerOffset('activity')).toBe(9); // the commit point was passed
    await next.commitActivity('velib', 'activity', 12, [
      { stationId: 'b', day: 20_000, slot: 4, rented: 1, returned: 1 },
    ]);
    const rows = await next.loadActivity('velib', 20_000, 20_000);
    expect(rows.sort((x, y) => x.slot - y.slot)).toEqual([
      { stationId: 'a', day: 20_000, slot: 3, rented: 3, returned: 1 },
      { stationId: 'b', day: 20_000, slot: 4, rented: 6, returned: 1 },
    ]);
  });

  it('detection: changes of a commit cut short are written once by the next process; stream items decode', async () => {
    const table = uniqueTable('det');
    const crashing = await open(table);
    crashAt(crashing.clients.client, 'PutItem', 2); // after the first change's key item
    const changes = [
      change({ stationId: 'a', timeSec: 5000, offset: 40 }),
      change({ stationId: 'b', timeSec: 5100, offset: 41, evidence: null }),
    ];
    await expect(crashing.commitDetection('detector:velib:seed', 41, changes, { n: 1 })).rejects.toThrow(
      /injected/,
    );
    const next = await open(table);
    expect(await next.loadCheckpoint('detector:velib:seed')).toEqual({ offset: 41, state: { n: 1 } });
    await next.commitDetection('detector:velib:seed', 45, []);
    // The detector redoes offsets after its checkpoint: the same changes again are not stored twice.
    await next.commitDetection('detector:velib:seed', 45, changes);
    const stored = await next.listStateChanges({ limit: 10 });
    expect(stored.map(({ id: _id, ...c }) => c).sort((x, y) => x.offset - y.offset)).toEqual(changes);
    const item = (
      await next.clients.doc.send(
        new GetCommand({ TableName: table, Key: { pk: 'SC', sk: String(stored[0]!.id).padStart(16, '0') } }),
      )
    ).Item!;
    expect(stateChangeFromItem(item)).toEqual(stored[0]);
    expect(stateChangeFromItem({ pk: 'LOG', sk: 'o1' })).toBeNull();
  });
});

/**
 * The `poisson` detector after a week of 10-minute documents of `n` stations with random moves
 * (a seeded generator): its rate tables are full, as in a live deployment's checkpoint.
 */
function poissonAfterAWeek(n: number): PoissonDetector {
  let seed = 12_345;
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const activity: ActivityView = {
    slotCount: () => 0,
    historyDays: () => 0,
    slotOf: (t) => Math.floor((t % 86_400) / 600),
  };
  const detector = new PoissonDetector({ system: 'velib', minHistoryDays: 7 });
  const capacity = 30;
  const bikes = Array.from({ length: n }, () => Math.floor(random() * capacity));
  const after = (i: number) => ({
    bikes: { mechanical: bikes[i]!, electric: 0, other: 0 },
    docksAvailable: capacity - bikes[i]!,
    bikesDisabled: 0,
    docksDisabled: 0,
  });
  let offset = 0;
  const t0 = 1_760_000_000;
  for (let i = 0; i < n; i++)
    detector.handle(
      {
        system: 'velib',
        timeSec: t0,
        type: 'station_added',
        stationId: `s${i}`,
        after: after(i),
        flags: { installed: true, renting: true, returning: true },
        info: null,
        offset: ++offset,
      },
      activity,
    );
  for (let t = t0 + 600; t <= t0 + 7 * 86_400; t += 600) {
    for (let i = 0; i < n; i++) {
      const r = random();
      const type = r < 0.3 && bikes[i]! > 0 ? 'rented' : r > 0.7 && bikes[i]! < capacity ? 'returned' : null;
      if (type === null) continue;
      bikes[i]! += type === 'rented' ? -1 : 1;
      const stationId = `s${i}`;
      const moved = { bikeType: 'mechanical' as const, count: 1, after: after(i), offset: ++offset };
      detector.handle({ system: 'velib', timeSec: t, type, stationId, ...moved }, activity);
    }
    detector.handle(
      { system: 'velib', timeSec: t, type: 'snapshot', stations: n, intervalSec: 600, offset: ++offset },
      activity,
    );
  }
  return detector;
}

describe('DynamoDB store: checkpoints larger than an item', () => {
  const consumer = 'detector:velib:poisson';
  /** A poisson-like v3 checkpoint: base64 of random bytes, `bytes` of JSON, barely compressible. */
  const bigState = (bytes: number) => ({
    v: 3,
    bin: randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64'),
  });

  async function chunks(store: DynamoStore): Promise<{ sk: string; expiresAt: number }[]> {
    const items = await queryAll(store.clients.doc, {
      TableName: store.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `CK#${consumer}` },
      ProjectionExpression: 'sk, expiresAt',
      ConsistentRead: true,
    });
    return items.map((i) => ({ sk: i['sk'] as string, expiresAt: i['expiresAt'] as number }));
  }
  const chunkKeys = async (store: DynamoStore): Promise<string[]> => (await chunks(store)).map((c) => c.sk);
  const generations = (sks: string[]): string[] => [...new Set(sks.map((sk) => sk.split('#')[0]!))];

  /** The first BatchWriteItem sends only its first `keep` writes, then the process "dies". */
  function crashInsideBatch(client: DynamoDBClient, keep: number): void {
    let done = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (done || context.commandName !== 'BatchWriteItemCommand') return next(args);
        done = true;
        const input = args.input as { RequestItems: Record<string, unknown[]> };
        for (const t of Object.keys(input.RequestItems))
          input.RequestItems[t] = input.RequestItems[t]!.slice(0, keep);
        await next(args);
        throw new Error(`injected crash after ${keep} writes of a batch`);
      },
      { step: 'initialize', name: `crashInsideBatch${keep}` },
    );
  }

  it('a 3 MB incompressible checkpoint is written in chunks, read back whole; replaced ones expire', async () => {
    const store = await open(uniqueTable('ck'));
    const counter = countCommands(store.clients.client);
    const first = bigState(3_000_000);
    const gz = gzipSync(JSON.stringify(first)).length;
    const n = Math.ceil(gz / CHUNK_BYTES);
    expect(n).toBeGreaterThanOrEqual(6); // 3 MB of base64 gzips to ~2.3 MB
    await store.commitDetection(consumer, 100, [], first);
    expect(await store.loadCheckpoint(consumer)).toEqual({ offset: 100, state: first });
    expect(await chunkKeys(store)).toHaveLength(n);

    counter.reset();
    const second = bigState(3_000_000);
    await store.commitDetection(consumer, 160, [], second);
    // Generation counter + commit point, the chunks in one BatchWriteItem; no PutItem, no Scan.
    expect(counter.requests).toEqual({ UpdateItem: 2, BatchWriteItem: 1 });
    // Write units: one per started KB of each chunk — and nothing to delete the replaced ones.
    expect(counter.capacity['BatchWriteItem']).toBeGreaterThanOrEqual(gz / 1024);
    expect(counter.capacity['BatchWriteItem']).toBeLessThan(gz / 1024 + 2 * n);
    counter.reset();
    expect(await store.loadCheckpoint(consumer)).toEqual({ offset: 160, state: second });
    expect(counter.requests).toEqual({ GetItem: 1, Query: Math.ceil(gz / 1024 ** 2) }); // 1 MB pages
    // Both generations are there until DynamoDB's TTL (which dynalite lacks) drops the replaced one.
    const now = Math.floor(Date.now() / 1000);
    const all = await chunks(store);
    expect(generations(all.map((c) => c.sk))).toEqual(['g0000000000000001', 'g0000000000000002']);
    for (const c of all) {
      expect(c.expiresAt).toBeGreaterThanOrEqual(now + 7 * 86_400 - 60);
      expect(c.expiresAt).toBeLessThanOrEqual(now + 7 * 86_400 + 60);
    }

    // Read by another process; a later commit without a checkpoint keeps it.
    const other = await open(store.table);
    await other.commitDetection(consumer, 170, []);
    expect(await other.loadCheckpoint(consumer)).toEqual({ offset: 160, state: second });
    // A small checkpoint is one chunk.
    await other.commitDetection(consumer, 180, [], { n: 1 });
    expect(await other.loadCheckpoint(consumer)).toEqual({ offset: 180, state: { n: 1 } });
    expect((await chunkKeys(other)).filter((sk) => sk.startsWith('g0000000000000003'))).toEqual([
      'g0000000000000003#000000',
    ]);
  });

  it('a crash after some chunks of a new generation leaves the old checkpoint; the next commit succeeds', async () => {
    const table = uniqueTable('ckcrash');
    const crashing = await open(table);
    const old = bigState(1_500_000);
    await crashing.commitDetection(consumer, 50, [], old);
    crashInsideBatch(crashing.clients.client, 2);
    await expect(
      crashing.commitDetection(
        consumer,
        110,
        [change({ stationId: 'a', timeSec: 5000, offset: 105 })],
        bigState(3_000_000),
      ),
    ).rejects.toThrow(/injected crash/);
    const stray = (await chunkKeys(crashing)).filter((sk) => sk.startsWith('g0000000000000002'));
    expect(stray).toHaveLength(2); // some chunks of generation 2, named by nothing

    const next = await open(table);
    expect(await next.loadCheckpoint(consumer)).toEqual({ offset: 50, state: old });
    expect(await next.listStateChanges({ limit: 10 })).toEqual([]);
    const fresh = bigState(1_000_000);
    await next.commitDetection(
      consumer,
      110,
      [change({ stationId: 'a', timeSec: 5000, offset: 105 })],
      fresh,
    );
    expect(await next.loadCheckpoint(consumer)).toEqual({ offset: 110, state: fresh });
    expect(await next.listStateChanges({ limit: 10 })).toHaveLength(1);
    // Generation 3: the stray chunks of 2 are never read, and expire like the replaced 1.
    expect(generations(await chunkKeys(next))).toEqual([
      'g0000000000000001',
      'g0000000000000002',
      'g0000000000000003',
    ]);
  });

  it('a checkpoint whose chunks are gone (expired) fails to load with a clear error', async () => {
    const store = await open(uniqueTable('ckgone'));
    await store.commitDetection(consumer, 10, [], bigState(800_000));
    const keys = await chunkKeys(store);
    await batchWrite(
      store.clients.doc,
      store.table,
      keys.slice(1).map((sk) => ({ DeleteRequest: { Key: { pk: `CK#${consumer}`, sk } } })),
    );
    await expect(store.loadCheckpoint(consumer)).rejects.toThrow(
      /checkpoint of detector:velib:poisson at offset 10 \(generation 1\) is incomplete: 1 of 2 chunks/,
    );
  });

  it("a real poisson checkpoint of Vélib' size (1,495 stations, a week of moves) round-trips exactly", async () => {
    const detector = poissonAfterAWeek(1495);
    const state = detector.saveState();
    const gz = gzipSync(JSON.stringify(state)).length;
    expect(gz).toBeGreaterThan(CHUNK_BYTES); // more than one item: refused before chunking
    const store = await open(uniqueTable('ckpoisson'));
    await store.commitDetection(consumer, 1_000, [], state);
    expect(await chunkKeys(store)).toHaveLength(Math.ceil(gz / CHUNK_BYTES));
    const loaded = await (await open(store.table)).loadCheckpoint(consumer);
    expect(loaded?.offset).toBe(1_000);
    const restored = new PoissonDetector({ system: 'velib', minHistoryDays: 7 });
    restored.restoreState(loaded!.state);
    expect(restored.saveState()).toEqual(state);
    expect(restored.states()).toEqual(detector.states());
  });

  it('a slower process never names its older checkpoint over a newer one', async () => {
    const table = uniqueTable('ckrace');
    const slow = await open(table);
    const fast = await open(table);
    // The slow process gets its generation, then the fast one commits a whole checkpoint.
    let fastDone: Promise<void> | undefined;
    slow.clients.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchWriteItemCommand' && fastDone === undefined) {
          fastDone = fast.commitDetection(consumer, 40, [], { by: 'fast' });
          await fastDone;
        }
        return next(args);
      },
      { step: 'initialize', name: 'letFastCommit' },
    );
    await expect(slow.commitDetection(consumer, 30, [], { by: 'slow' })).rejects.toThrow(/newer one/);
    expect(await slow.loadCheckpoint(consumer)).toEqual({ offset: 40, state: { by: 'fast' } });
    await slow.commitDetection(consumer, 50, [], { by: 'slow', n: 2 });
    expect(await fast.loadCheckpoint(consumer)).toEqual({ offset: 50, state: { by: 'slow', n: 2 } });
  });
});
