/**
 * The DynamoDB store: the shared contract suite against dynalite through the real AWS SDK, then
 * what only this adapter has — the table definition, no Scan on hot paths, requests per
 * document, concurrent writers, crashes between the requests of one commit.
 */
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
