/**
 * The PostgreSQL store: the shared contract suite, then what only a server database has —
 * migrations in a schema, several processes on one log, connections that go away.
 * Skipped, with the reason printed, when no PostgreSQL answers at 127.0.0.1:5432.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { FeedEvent, LoggedEvent } from '../../src/events/types.js';
import { eventKey } from '../../src/events/types.js';
import { openStore, type Store } from '../../src/storage/index.js';
import {
  applyPgMigrations,
  openPostgresStore,
  PG_MIGRATIONS,
  pgSchemaVersion,
  PostgresStore,
  StoreUnavailableError,
} from '../../src/storage/postgres/index.js';
import { createPool } from '../../src/storage/postgres/connection.js';
import { PgContext, stmt } from '../../src/storage/postgres/context.js';
import { describeStoreContract, everyKind, rented, status } from './contract.js';
import { adminQuery, dropSchema, freshPgStore, PG_URL, pgUp, uniqueSchema } from './postgres-fixture.js';

const schemaOf = (store: Store): string => (store as PostgresStore).schema;

if (pgUp) {
  describeStoreContract(
    'postgres',
    () => Promise.resolve(freshPgStore()),
    (store) => dropSchema(schemaOf(store)),
  );
} else {
  describe.skip('Store contract: postgres (PostgreSQL not reachable)', () => undefined);
}

/** Schemas made by the tests below, dropped at the end. */
const schemas: string[] = [];
const stores: Store[] = [];
function schema(tag: string): string {
  const s = uniqueSchema(tag);
  schemas.push(s);
  return s;
}
async function open(s: string, url = PG_URL): Promise<Store> {
  const store = openPostgresStore({ url, schema: s });
  stores.push(store);
  await store.migrate();
  return store;
}
afterAll(async () => {
  for (const store of stores) await store.close();
  for (const s of schemas) await dropSchema(s);
});

/** One document: a snapshot plus `n` rentals at distinct stations. */
function doc(timeSec: number, n: number, system = 'velib'): FeedEvent[] {
  const events: FeedEvent[] = [{ system, timeSec, type: 'snapshot', stations: n, intervalSec: 60 }];
  for (let i = 0; i < n; i++) events.push(rented(`s${i}`, timeSec, 1, system));
  return events;
}

describe.skipIf(!pgUp)('PostgreSQL store: migrations', () => {
  it('applies every migration once, records them, and is idempotent', async () => {
    const s = schema('mig');
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${s}` });
    try {
      expect(await pgSchemaVersion(pool, s)).toBe(0);
      expect(await applyPgMigrations(pool, s)).toEqual(PG_MIGRATIONS.map((m) => m.version));
      expect(await applyPgMigrations(pool, s)).toEqual([]);
      expect(await pgSchemaVersion(pool, s)).toBe(PG_MIGRATIONS.length);
      const rows = await pool.query(`SELECT version, name FROM ${s}.schema_migrations ORDER BY version`);
      expect(rows.rows).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    } finally {
      await pool.end();
    }
  });

  it('two processes migrating a new schema at once: both succeed, each migration runs once', async () => {
    const s = schema('race');
    const a = openPostgresStore({ url: PG_URL, schema: s });
    const b = openPostgresStore({ url: PG_URL, schema: s });
    stores.push(a, b);
    await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
    const rows = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM ${s}.schema_migrations`);
    expect(Number(rows[0]!.n)).toBe(PG_MIGRATIONS.length);
    await a.log.append([rented('x', 1)]);
    expect(await b.log.lastOffset()).toBe(1);
  });

  it('upgrades a schema at version 1, keeping its events; refuses to work before migrate()', async () => {
    const s = schema('v1');
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${s}` });
    try {
      expect(await applyPgMigrations(pool, s, PG_MIGRATIONS, 1)).toEqual([1]);
      // Rows as version 1 writes them (the packed format of the SQLite store: kind 4 = rented
      // mechanical, station 1, then zigzag varints count 2, after 3 1 0 10 0 0).
      await pool.query(`INSERT INTO systems (id, key) VALUES (1, 'velib');
        INSERT INTO stations (id, system_id, key) VALUES (1, 1, '16107');
        INSERT INTO event_batches (first_offset, event_count, system_id, time_sec, events) VALUES (1, 1, 1, 1000, '\\x040104060200140000');
        UPDATE log_head SET next_offset = 2;`);
    } finally {
      await pool.end();
    }
    const store = openPostgresStore({ url: PG_URL, schema: s });
    stores.push(store);
    await expect(store.log.lastOffset()).rejects.toThrow(
      `version 1, expected ${PG_MIGRATIONS.length}: call store.migrate() first`,
    );
    await store.migrate();
    expect(await store.log.read(0, 10)).toEqual([
      {
        system: 'velib',
        stationId: '16107',
        timeSec: 1000,
        type: 'rented',
        bikeType: 'mechanical',
        count: 2,
        after: {
          bikes: { mechanical: 3, electric: 1, other: 0 },
          docksAvailable: 10,
          bikesDisabled: 0,
          docksDisabled: 0,
        },
        offset: 1,
      },
    ]);
    // Identity columns continue after the ids inserted by hand? Not needed: the dictionary asks.
    await store.commitActivity('velib', 'activity', 1, [
      { stationId: '16107', day: 1, slot: 2, rented: 2, returned: 0 },
    ]);
    expect((await store.log.append([rented('16107', 1060)]))[0]?.offset).toBe(2);
  });

  it('applies a new migration once and refuses a schema newer than the code', async () => {
    const s = schema('newer');
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${s}` });
    const extra = [
      ...PG_MIGRATIONS,
      { version: PG_MIGRATIONS.length + 1, name: 'test_extra', sql: 'CREATE TABLE extra (x integer);' },
    ];
    try {
      expect(await applyPgMigrations(pool, s, extra)).toEqual(extra.map((m) => m.version));
      expect(await applyPgMigrations(pool, s, extra)).toEqual([]);
    } finally {
      await pool.end();
    }
    const store = openPostgresStore({ url: PG_URL, schema: s });
    stores.push(store);
    await expect(store.migrate()).rejects.toThrow(/newer than this dockwatch knows/);
  });

  it('a failed migration leaves nothing half-done (DDL is transactional)', async () => {
    const s = schema('fail');
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${s}` });
    const broken = [
      ...PG_MIGRATIONS,
      {
        version: PG_MIGRATIONS.length + 1,
        name: 'broken',
        sql: 'CREATE TABLE half (x integer); SELECT no_such_function();',
      },
    ];
    try {
      await expect(applyPgMigrations(pool, s, broken)).rejects.toThrow(/no_such_function/);
      expect(await pgSchemaVersion(pool, s)).toBe(PG_MIGRATIONS.length);
      const half = await pool.query<{ t: string | null }>("SELECT to_regclass('half')::text AS t");
      expect(half.rows[0]?.t).toBeNull();
    } finally {
      await pool.end();
    }
  });
});

describe.skipIf(!pgUp)('PostgreSQL store: data', () => {
  it('keeps data across close and reopen (openStore with a postgres URL and ?schema=)', async () => {
    const s = schema('reopen');
    let store = await openStore(`${PG_URL}?schema=${s}`);
    expect(schemaOf(store)).toBe(s);
    const events = everyKind(1_760_000_000);
    await store.commitDiff('velib', events, {
      lastDocumentSec: 1_760_000_000,
      changed: [status('1', 3)],
      removed: [],
      capacities: new Map([['1', 20]]),
    });
    await store.log.commitOffset('activity', 5);
    await store.close();
    await store.close(); // idempotent
    await expect(store.log.lastOffset()).rejects.toThrow(/closed/);

    store = await openStore(`postgresql://postgres@127.0.0.1:5432/test?schema=${s}`);
    stores.push(store);
    expect(await store.log.read(0, 100)).toEqual(events.map((e, i) => ({ ...e, offset: i + 1 })));
    expect(await store.log.consumerOffset('activity')).toBe(5);
    const state = await store.loadDiffState('velib');
    expect(state.stations.get('1')).toEqual(status('1', 3));
    expect(state.capacities).toEqual(new Map([['1', 20]]));
    // Duplicates are still recognised by a new process (its dictionary starts empty).
    expect(await store.log.append(events)).toEqual([]);
  });

  it('two processes appending the same documents at once: each event once, offsets gapless, never read out of order', async () => {
    const s = schema('conc');
    const [a, b, reader] = [await open(s), await open(s), await open(s)];
    const docs = Array.from({ length: 40 }, (_, d) => doc(10_000 + d * 60, 1 + (d % 7)));
    // A reader polls while both write: every page must continue exactly where the last ended.
    let stop = false;
    const seen: LoggedEvent[] = [];
    const reading = (async () => {
      while (!stop) {
        const page = await reader.log.read(seen.at(-1)?.offset ?? 0, 25);
        for (const e of page) {
          expect(e.offset).toBe((seen.at(-1)?.offset ?? 0) + 1);
          seen.push(e);
        }
      }
    })();
    const write = async (store: Store, order: FeedEvent[][]): Promise<number> => {
      let appended = 0;
      for (const events of order) appended += (await store.log.append(events)).length;
      return appended;
    };
    // B goes through the documents in another order, and also sends the first half of each twice.
    const shuffled = [...docs]
      .reverse()
      .map((events) => [...events.slice(0, Math.ceil(events.length / 2)), ...events]);
    const [na, nb] = await Promise.all([write(a, docs), write(b, shuffled)]);
    stop = true;
    await reading;
    const total = docs.reduce((sum, events) => sum + events.length, 0);
    expect(na + nb).toBe(total);
    expect(await a.log.lastOffset()).toBe(total);
    const all = await reader.log.read(0, total + 10);
    expect(all.map((e) => e.offset)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(all.map(eventKey)).size).toBe(total);
    expect(new Set(all.map(eventKey))).toEqual(new Set(docs.flat().map(eventKey)));
    seen.push(...(await reader.log.read(seen.at(-1)?.offset ?? 0, total)));
    expect(seen).toEqual(all);
  });

  it('an append that rolls back while another process appends leaves no hole', async () => {
    const s = schema('hole');
    const [a, b] = [await open(s), await open(s)];
    const bad = [rented('x', 500), { ...rented('y', 500), count: 0.5 } as FeedEvent];
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        i % 3 === 0 ? a.log.append(bad) : (i % 2 === 0 ? a : b).log.append(doc(1000 + i, 3)),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(7);
    const all = await a.log.read(0, 1000);
    expect(all.map((e) => e.offset)).toEqual(Array.from({ length: 13 * 4 }, (_, i) => i + 1));
  });

  it('two processes taking turns on one system keep the diff state right (capacities, removals)', async () => {
    const s = schema('turns');
    const [a, b] = [await open(s), await open(s)];
    const capacities = new Map<string, number | null>([
      ['1', 10],
      ['2', 20],
    ]);
    await a.commitDiff('velib', [], {
      lastDocumentSec: 100,
      changed: [status('1', 1), status('2', 2)],
      removed: [],
      capacities,
    });
    // B changes a capacity and removes a station; A's in-memory copy is now stale.
    await b.commitDiff('velib', [], {
      lastDocumentSec: 160,
      changed: [],
      removed: ['2'],
      capacities: new Map([['1', 11]]),
    });
    // A sends its whole (stale) map: its values differ from what is stored, so they are written.
    await a.commitDiff('velib', [], {
      lastDocumentSec: 220,
      changed: [status('3', 3)],
      removed: [],
      capacities: new Map([
        ['1', 11],
        ['3', 30],
      ]),
    });
    const state = await b.loadDiffState('velib');
    expect(state.lastDocumentSec).toBe(220);
    expect(state.stations).toEqual(
      new Map([
        ['1', status('1', 1)],
        ['3', status('3', 3)],
      ]),
    );
    expect(state.capacities).toEqual(
      new Map([
        ['1', 11],
        ['3', 30],
      ]),
    );
    // Each store reads events and ids written by the other.
    await b.log.append([rented('new-at-b', 300)]);
    expect((await a.log.read(0, 10)).map((e) => ('stationId' in e ? e.stationId : ''))).toEqual(['new-at-b']);
    await b.commitDetection('d', 1, [
      {
        system: 'velib',
        stationId: 'only-b',
        timeSec: 1,
        from: 'ok',
        to: 'locked',
        detector: 'seed',
        confidence: 1,
        reason: 'x',
        evidence: null,
        offset: 1,
      },
    ]);
    expect((await a.listStateChanges({ system: 'velib', stationId: 'only-b', limit: 5 })).length).toBe(1);
  });

  it('batch: one transaction; its reads see its writes, a failed write inside undoes only itself', async () => {
    const s = schema('batch');
    const [a, b] = [await open(s), await open(s)];
    await a.batch(async () => {
      await a.commitDiff('velib', doc(100, 2), {
        lastDocumentSec: 100,
        changed: [status('s0', 1)],
        removed: [],
        capacities: new Map(),
      });
      expect((await a.log.read(0, 10)).length).toBe(3);
      expect(await b.log.lastOffset()).toBe(0); // not committed yet
      await expect(a.log.append([{ ...rented('z', 160), count: 0.5 } as FeedEvent])).rejects.toThrow();
      await a.commitActivity('velib', 'activity', 3, [
        { stationId: 's0', day: 1, slot: 1, rented: 1, returned: 0 },
      ]);
    });
    expect(await b.log.lastOffset()).toBe(3);
    expect(await b.log.consumerOffset('activity')).toBe(3);
    expect((await b.loadDiffState('velib')).stations.get('s0')).toEqual(status('s0', 1));
  });

  it('reads one station’s activity with index probes, also for an open range', async () => {
    const s = schema('act');
    const store = await open(s);
    const increments = [];
    for (let day = 20_000; day < 20_010; day++) {
      for (const st of ['a', 'b', 'c'])
        increments.push({ stationId: st, day, slot: day % 144, rented: 1, returned: 2 });
    }
    await store.commitActivity('velib', 'activity', 1, increments);
    const b = await store.loadActivity('velib', 0, undefined, 'b');
    expect(b.map((c) => c.day)).toEqual(Array.from({ length: 10 }, (_, i) => 20_000 + i));
    expect(await store.loadActivity('velib', 20_005, 20_006, 'c')).toHaveLength(2);
    expect(await store.loadActivity('velib', 30_000, undefined, 'c')).toEqual([]);
  });
});

/** A TCP relay to the server that the test can cut and restore: "the server went away" without disturbing anyone else. */
class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    const target = new URL(PG_URL);
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const sock of [client, upstream]) {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
        sock.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async cut(): Promise<void> {
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe.skipIf(!pgUp)('PostgreSQL store: connections that go away', () => {
  it('a server that cannot be reached gives a clear error, quickly', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const store = openPostgresStore({
      url: `postgres://postgres@127.0.0.1:${closed}/test`,
      schema: 'public',
    });
    const started = Date.now();
    const err = await store.migrate().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(
      new RegExp(`PostgreSQL at postgres://postgres@127.0.0.1:${closed}/test is unavailable`),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    await store.close();
    await expect(openStore('postgres://no_such_role@127.0.0.1:5432/test')).rejects.toThrow(
      /PostgreSQL at postgres:\/\/no_such_role@127.0.0.1:5432\/test refused dockwatch: role "no_such_role" does not exist/,
    );
  });

  it('callers of a busy pool wait their turn, past the connect timeout, instead of failing', async () => {
    // One connection, a 200-ms connect timeout, and 4 callers holding it 300 ms each: pg-pool alone
    // fails the later ones with "timeout exceeded when trying to connect" (docs/performance.md §6a).
    const pool = createPool({ url: PG_URL, schema: 'public', poolSize: 1, connectTimeoutMs: 200 });
    const ctx = new PgContext(pool, PG_URL);
    const hold = stmt('test_hold', 'SELECT pg_sleep(0.3)');
    try {
      const results = await Promise.allSettled([
        ctx.write((tx) => tx.run(hold)),
        ctx.write((tx) => tx.run(hold)),
        ctx.db.run(hold),
        ctx.db.run(hold),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    } finally {
      await pool.end();
    }
  });

  it('calls made inside a transaction use its connection: a one-connection pool never waits on itself', async () => {
    // Were a nested call to queue at the gate for a pooled connection, it would wait for the very
    // transaction that is waiting for it (with one connection: forever).
    const pool = createPool({ url: PG_URL, schema: 'public', poolSize: 1, connectTimeoutMs: 200 });
    const ctx = new PgContext(pool, PG_URL);
    const one = stmt('test_one', 'SELECT 1');
    const deadline = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([
        p,
        new Promise<T>((_, reject) => setTimeout(() => reject(new Error('deadlock')), 5_000)),
      ]);
    try {
      const outside = ctx.db.rows(one); // queued behind the transaction below, served after it
      const inside = ctx.batch(async () => {
        const read = await ctx.db.rows(one);
        const nested = await ctx.write(async (tx) => {
          await tx.run(one);
          return ctx.db.rows(one); // a read inside a write inside the batch
        });
        return [read.length, nested.length];
      });
      expect(await deadline(inside)).toEqual([1, 1]);
      expect((await deadline(outside)).length).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('the connection drops (relay cut): calls fail clearly, and work again once it is back', async () => {
    const s = schema('relay');
    const relay = new Relay();
    await relay.start();
    const url = `postgres://postgres@127.0.0.1:${relay.port}/test`;
    const store = await open(s, url);
    await store.commitDiff('velib', doc(100, 3), {
      lastDocumentSec: 100,
      changed: [status('s0', 1)],
      removed: [],
      capacities: new Map([['s0', 5]]),
    });
    await relay.cut();
    await expect(store.log.append(doc(160, 3))).rejects.toThrow(StoreUnavailableError);
    await expect(store.loadDiffState('velib')).rejects.toThrow(/is unavailable/);
    await relay.start(); // same port
    expect((await store.log.append(doc(160, 3))).map((e) => e.offset)).toEqual([5, 6, 7, 8]);
    await store.commitDiff('velib', doc(220, 1), {
      lastDocumentSec: 220,
      changed: [status('s0', 2)],
      removed: [],
      capacities: new Map([['s0', 6]]),
    });
    const state = await store.loadDiffState('velib');
    expect(state.capacities.get('s0')).toBe(6);
    expect(state.stations.get('s0')).toEqual(status('s0', 2));
    await relay.cut();
  });

  it('the server terminates our connections (pg_terminate_backend) mid-batch: clear error, nothing half-done, the next call works', async () => {
    const s = schema('term');
    // Our own application_name: only this store's connections are terminated.
    const store = await open(s, `${PG_URL}?application_name=${s}`);
    await store.log.append(doc(100, 2));
    const terminate = (): Promise<unknown[]> =>
      adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [s]);
    await expect(
      store.batch(async () => {
        await store.log.append(doc(160, 1));
        await terminate();
        await store.log.append(doc(220, 1));
      }),
    ).rejects.toThrow(StoreUnavailableError);
    expect(await store.log.lastOffset()).toBe(3);
    await terminate(); // idle connections too: the pool drops them
    expect((await store.log.append(doc(160, 1))).map((e) => e.offset)).toEqual([4, 5]);
  });

  // PostgreSQL restarted under a writing store: test/broker/pg-restart.test.ts (the serial run,
  // since a restart drops every other suite's connections).
});
