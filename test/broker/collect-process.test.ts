/**
 * collect → JetStream → process, in one test process, against the real NATS: the distributed run
 * must equal the embedded one (same events, activity, state changes, states).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LogReadError,
  openJetStreamLog,
  SnapshotLog,
  SystemCollector,
  SystemRunner,
  type JetStreamLog,
} from '../../src/broker/index.js';
import { eventKey } from '../../src/events/types.js';
import { silentLogger } from '../../src/log/index.js';
import { ProcessService } from '../../src/service/process-service.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import {
  dumpEffects,
  embeddedRun,
  GAP_SEC,
  makeCity,
  MIN_HISTORY_DAYS,
  streamEvents,
  TIME_ZONE,
  waitFor,
  type City,
  type Dump,
} from './fixture.js';
import { NATS_URL, natsUp, uniqueStream } from './nats.js';
import { dropSchema, freshPgStore, pgUp, uniqueSchema } from '../storage/postgres-fixture.js';

describe.skipIf(!natsUp)('collect and process roles (in-process)', () => {
  let dir: string;
  let cities: City[];
  const reference = new Map<string, Dump>();
  const logs: JetStreamLog[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-broker-'));
    cities = [
      makeCity('alpha', { stations: 30, days: 2, locks: 3 }),
      makeCity('beta', { stations: 20, days: 2, locks: 2 }),
    ];
    for (const c of cities) reference.set(c.system, await embeddedRun(c, dir));
  }, 120_000);

  afterAll(async () => {
    for (const log of logs) {
      await log.destroy().catch(() => undefined);
      await log.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function openLog(tag: string, duplicateWindowSec?: number): Promise<JetStreamLog> {
    const log = await openJetStreamLog({
      url: NATS_URL,
      stream: uniqueStream(tag),
      ...(duplicateWindowSec ? { duplicateWindowSec } : {}),
    });
    logs.push(log);
    return log;
  }

  async function openStore(name: string): Promise<Store> {
    const store = openSqliteStore({ path: path.join(dir, name) });
    await store.migrate();
    return store;
  }

  function collector(
    store: Store,
    log: JetStreamLog,
    snapshots: SnapshotLog,
    system: string,
  ): SystemCollector {
    return new SystemCollector({
      store,
      log,
      snapshots,
      system,
      gapThresholdSec: GAP_SEC,
      maxBufferedDocuments: 10_000,
      logger: silentLogger,
      retryDelayMs: 50,
    });
  }

  async function collectAll(store: Store, log: JetStreamLog, only?: (c: City) => City): Promise<void> {
    const snapshots = await SnapshotLog.open(log);
    for (const city of cities) {
      const c = only ? only(city) : city;
      await store.upsertSystem({
        id: c.system,
        name: c.system,
        feedUrl: 'http://127.0.0.1/gbfs.json',
        timezone: TIME_ZONE,
      });
      const col = collector(store, log, snapshots, c.system);
      col.enqueueInformation(c.info);
      for (const doc of c.docs) col.enqueueStatus(doc);
      await col.whenIdle();
      await col.stop();
    }
  }

  it('the collector publishes exactly the events the embedded producer logs, and a second pass publishes nothing', async () => {
    const log = await openLog('COLLECT');
    const store = await openStore('collect.sqlite');
    await collectAll(store, log);
    for (const c of cities)
      expect(await streamEvents(log, c.system)).toEqual(reference.get(c.system)!.events);
    const before = await log.lastOffset();
    // The same documents again, through a fresh collector (state from the store): nothing new.
    await collectAll(store, log);
    expect(await log.lastOffset()).toBe(before);
    // The same raw document published twice is stored once.
    const snapshots = await SnapshotLog.open(log);
    const doc = cities[0]!.docs[5]!;
    await snapshots.publish('gamma', doc);
    await snapshots.publish('gamma', doc);
    const info = await log.jsm.streams.info(log.layout.snapshotsStream, { subjects_filter: '>' });
    expect(info.state.subjects?.[`${log.layout.snapshotsPrefix}.gamma`]).toBe(1);
    expect((await snapshots.last('gamma'))?.doc).toEqual(doc);
    await store.close();
  }, 120_000);

  /** Every city's activity, state changes and states in `store` equal the embedded run's. */
  async function expectLikeEmbedded(store: Store): Promise<void> {
    for (const c of cities) {
      const { events: _e, ...want } = reference.get(c.system)!;
      const got = await dumpEffects(store, c.system);
      expect(got.activity).toEqual(want.activity);
      expect(got.changes).toEqual(want.changes);
      expect(got.states).toEqual(want.states);
    }
  }

  async function processAndCompare(store: Store, tag: string): Promise<void> {
    const log = await openLog(tag);
    await collectAll(store, log);
    const worker = new ProcessService({
      store,
      log,
      logger: silentLogger,
      detector: 'seed',
      minHistoryDays: MIN_HISTORY_DAYS,
      leaseTtlMs: 3_000,
      idleMs: 20,
    });
    await worker.start();
    await waitFor('both systems taken', () => worker.systems().length === 2, 20_000);
    const ends = new Map<string, number>();
    for (const c of cities) ends.set(c.system, await log.forSystem(c.system).lastOffset());
    await waitFor(
      'the worker to reach the end of the stream',
      async () => {
        for (const c of cities)
          if ((await store.log.consumerOffset(`activity:${c.system}`)) < ends.get(c.system)!) return false;
        return true;
      },
      60_000,
    );
    await worker.stop();
    await expectLikeEmbedded(store);
    for (const c of cities) expect(reference.get(c.system)!.changes.length).toBeGreaterThan(0);
  }

  it('a process worker turns the stream into the same activity, state changes and states as the embedded run', async () => {
    const store = await openStore('process.sqlite');
    await processAndCompare(store, 'PROCESS');
    await store.close();
  }, 120_000);

  it.skipIf(!pgUp)(
    'the same on PostgreSQL + JetStream',
    async () => {
      const schema = uniqueSchema('broker');
      const store = freshPgStore(schema);
      try {
        await store.migrate();
        await processAndCompare(store, 'PGPROCESS');
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    },
    180_000,
  );

  it('a worker started first processes each document when it arrives (wake-ups), not by polling', async () => {
    const log = await openLog('WAKE');
    const store = await openStore('wake.sqlite');
    for (const c of cities)
      await store.upsertSystem({
        id: c.system,
        name: c.system,
        feedUrl: 'http://127.0.0.1/gbfs.json',
        timezone: TIME_ZONE,
      });
    // Polling a minute apart: within the test's time only the wake-ups can bring the documents in.
    const worker = new ProcessService({
      store,
      log,
      logger: silentLogger,
      detector: 'seed',
      minHistoryDays: MIN_HISTORY_DAYS,
      leaseTtlMs: 3_000,
      idleMs: 60_000,
      sweepMs: 60_000,
    });
    await worker.start();
    try {
      await waitFor('both systems taken', () => worker.systems().length === 2, 20_000);
      await collectAll(store, log);
      const ends = new Map<string, number>();
      for (const c of cities) ends.set(c.system, await log.forSystem(c.system).lastOffset());
      await waitFor(
        'the worker to reach the end of the stream',
        async () => {
          for (const c of cities) {
            const end = ends.get(c.system)!;
            if ((await store.log.consumerOffset(`activity:${c.system}`)) < end) return false;
            if ((await store.log.consumerOffset(`detector:${c.system}:seed`)) < end) return false;
          }
          return true;
        },
        30_000,
      );
    } finally {
      await worker.stop();
    }
    await expectLikeEmbedded(store);
    await store.close();
  }, 120_000);

  it('a failed read of the event log is a LogReadError: nothing was applied, the offsets stay', async () => {
    const log = await openLog('READFAIL');
    const store = await openStore('readfail.sqlite');
    await collectAll(store, log);
    const city = cities[0]!;
    // The runner's own connection, closed under it: every read fails from then on.
    const own = await openJetStreamLog({ url: NATS_URL, stream: log.layout.eventsStream });
    const runner = await SystemRunner.open({
      store,
      log: own,
      system: city.system,
      timeZone: TIME_ZONE,
      detector: 'seed',
      minHistoryDays: MIN_HISTORY_DAYS,
      logger: silentLogger,
    });
    const offset = runner.offset;
    expect(offset).toBe(await log.forSystem(city.system).lastOffset());
    await own.nc.close();
    await expect(runner.step(100)).rejects.toBeInstanceOf(LogReadError);
    expect(runner.offset).toBe(offset);
    expect(await store.log.consumerOffset(`activity:${city.system}`)).toBe(offset);
    await runner.close(false).catch(() => undefined);
    await store.close();
  }, 120_000);

  it('a collector that died half-way through publishing a document finishes it at restart, doubling nothing', async () => {
    // A 1 s duplicate window, long gone at restart: recovery must not rely on msg-id suppression.
    const log = await openLog('RECOVER', 1);
    const store = await openStore('recover.sqlite');
    const city = cities[0]!;
    const k = 100;
    // A normal run up to document k-1.
    await collectAll(store, log, (c) => ({ ...c, docs: c.docs.slice(0, k) }));
    // The crash: document k's raw copy and the first half of its events are out, its diff state is not saved.
    const ref = reference.get(city.system)!.events;
    const docEvents = ref.filter((e) => e.timeSec === city.docs[k]!.lastUpdatedSec);
    expect(docEvents.length).toBeGreaterThan(2);
    const snapshots = await SnapshotLog.open(log);
    await snapshots.publish(city.system, city.docs[k]!);
    await log.append(docEvents.slice(0, Math.floor(docEvents.length / 2)));
    await new Promise((r) => setTimeout(r, 1_500));
    // A restarted collector gets the documents from k on (the feed still serves k, then moves on).
    const col = collector(store, log, snapshots, city.system);
    for (const doc of city.docs.slice(k)) col.enqueueStatus(doc);
    await col.whenIdle();
    await col.stop();
    const got = await streamEvents(log, city.system);
    expect(got.length).toBe(ref.length);
    expect(new Set(got.map(eventKey)).size).toBe(ref.length);
    expect(got).toEqual(ref);
    await store.close();
  }, 120_000);
});
