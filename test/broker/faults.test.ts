/**
 * Faults against the real NATS and PostgreSQL, each checked against the embedded run ("nothing
 * lost, nothing doubled"): kill -9 of a `process` worker while another runs; a NATS restart, and
 * a PostgreSQL restart, while the collector publishes and a worker consumes. The restarts stop the
 * real servers: this file runs in the serial broker run (`npm run test:broker`), as root in CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJetStreamLog, SnapshotLog, SystemCollector, type JetStreamLog } from '../../src/broker/index.js';
import type { Logger } from '../../src/log/index.js';
import { ProcessService } from '../../src/service/process-service.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import { dropSchema, freshPgStore, pgUnreachableReason, uniqueSchema } from '../storage/postgres-fixture.js';
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
import { NATS_URL, natsReachable, natsUp, uniqueStream } from './nats.js';
import { canRestartNats, canRestartPg, pgCluster, startNats, stopNats } from './services.js';
import { startWorker, type Worker } from './workers.js';

function memoryLogger(): { logger: Logger; lines: () => string[] } {
  const lines: string[] = [];
  const logger: Logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  return { logger, lines: () => lines };
}

describe.skipIf(!natsUp)('faults: nothing lost, nothing doubled', () => {
  let dir: string;
  let cities: City[];
  const reference = new Map<string, Dump>();
  const logs: JetStreamLog[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-broker-faults-'));
    cities = ['north', 'south', 'east', 'west'].map((s, i) =>
      makeCity(s, { stations: 20 + 5 * i, days: 2, locks: 2 }),
    );
    for (const c of cities) reference.set(c.system, await embeddedRun(c, dir));
  }, 120_000);

  afterAll(async () => {
    for (const log of logs) {
      await log.destroy().catch(() => undefined);
      await log.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(
    tag: string,
    logger = memoryLogger().logger,
    openStore?: () => Store,
  ): Promise<{ log: JetStreamLog; store: Store; file: string; collectors: SystemCollector[] }> {
    const log = await openJetStreamLog({ url: NATS_URL, stream: uniqueStream(tag), logger });
    logs.push(log);
    const file = path.join(dir, `${tag}.sqlite`);
    const store = openStore ? openStore() : openSqliteStore({ path: file });
    await store.migrate();
    const snapshots = await SnapshotLog.open(log);
    const collectors: SystemCollector[] = [];
    for (const c of cities) {
      await store.upsertSystem({
        id: c.system,
        name: c.system,
        feedUrl: 'http://127.0.0.1/gbfs.json',
        timezone: TIME_ZONE,
      });
      const col = new SystemCollector({
        store,
        log,
        snapshots,
        system: c.system,
        gapThresholdSec: GAP_SEC,
        maxBufferedDocuments: 10_000,
        logger,
        retryDelayMs: 100,
      });
      col.enqueueInformation(c.info);
      collectors.push(col);
    }
    return { log, store, file, collectors };
  }

  /** Feeds the documents of every city at a pace, as live collectors would; `at(fraction)` hooks in. */
  async function feedPaced(
    collectors: SystemCollector[],
    totalMs: number,
    at: (fraction: number) => Promise<void>,
  ): Promise<void> {
    const n = Math.max(...cities.map((c) => c.docs.length));
    for (let i = 0; i < n; i++) {
      cities.forEach((c, j) => {
        const doc = c.docs[i];
        if (doc) collectors[j]!.enqueueStatus(doc);
      });
      await at(i / n);
      await new Promise((r) => setTimeout(r, totalMs / n));
    }
    for (const col of collectors) await col.whenIdle();
  }

  async function ends(log: JetStreamLog): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const c of cities) out.set(c.system, await log.forSystem(c.system).lastOffset());
    return out;
  }

  async function caughtUp(store: Store, end: Map<string, number>): Promise<boolean> {
    for (const [system, offset] of end) {
      if ((await store.log.consumerOffset(`activity:${system}`)) < offset) return false;
      if ((await store.log.consumerOffset(`detector:${system}:seed`)) < offset) return false;
    }
    return true;
  }

  async function expectLikeReference(log: JetStreamLog, store: Store): Promise<void> {
    for (const c of cities) {
      const ref = reference.get(c.system)!;
      expect(await streamEvents(log, c.system)).toEqual(ref.events);
      const got = await dumpEffects(store, c.system);
      expect(got.activity, c.system).toEqual(ref.activity);
      expect(got.changes, c.system).toEqual(ref.changes);
      expect(got.states, c.system).toEqual(ref.states);
    }
  }

  async function owners(log: JetStreamLog): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (const c of cities) {
      // Before the first worker starts, the leases stream does not exist yet.
      const m = await log.jsm.streams
        .getMessage(log.layout.leasesStream, {
          last_by_subj: `${log.layout.leasesPrefix}.process.l.${c.system}`,
        })
        .catch(() => null);
      out.set(c.system, m ? m.json<{ owner: string | null }>().owner : null);
    }
    return out;
  }

  it('kill -9 of a process worker while another runs: the other takes its systems over', async () => {
    const { log, store, file, collectors } = await setup('KILL');
    const leaseTtlSec = 2;
    const stream = log.layout.eventsStream;
    const workers: Worker[] = [
      startWorker('w1', { database: file, stream, leaseTtlSec }),
      startWorker('w2', { database: file, stream, leaseTtlSec }),
    ];
    let victim: Worker | null = null;
    let victimSystems: string[] = [];
    const offsetsAtKill = new Map<string, number>();
    try {
      await waitFor(
        'both workers to hold systems',
        async () => new Set([...(await owners(log)).values()].filter((o) => o !== null)).size === 2,
        60_000,
        250,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${workers.map((w) => w.stderr()).join('\n')}`);
      });
      await feedPaced(collectors, 12_000, async (fraction) => {
        if (victim !== null || fraction < 0.4) return;
        const held = await owners(log);
        victim = workers.find((w) => [...held.values()].includes(w.id)) ?? null;
        if (victim === null) return;
        victimSystems = [...held].filter(([, o]) => o === victim!.id).map(([s]) => s);
        victim.child.kill('SIGKILL');
        expect((await victim.exited).signal).toBe('SIGKILL');
        for (const sys of victimSystems)
          offsetsAtKill.set(sys, await store.log.consumerOffset(`activity:${sys}`));
      });
      expect(victim).not.toBeNull();
      const survivor = workers.find((w) => w !== victim)!;
      const end = await ends(log);
      await waitFor('the survivor to finish every system', () => caughtUp(store, end), 90_000, 250).catch(
        (err: unknown) => {
          throw new Error(`${String(err)}\n${survivor.stderr()}`);
        },
      );
      // Killed mid-stream: its systems were not done, the rest was someone else's work.
      for (const [sys, offset] of offsetsAtKill) expect(offset).toBeLessThan(end.get(sys)!);
      expect(offsetsAtKill.size).toBeGreaterThan(0);
      expect(
        [...(await owners(log))]
          .filter(([s]) => victimSystems.includes(s))
          .every(([, o]) => o === survivor.id),
      ).toBe(true);
      expect(survivor.stderr()).toContain('took over a system');
      survivor.child.kill('SIGTERM');
      expect((await survivor.exited).code).toBe(0);
      await expectLikeReference(log, store);
    } finally {
      for (const w of workers)
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await store.close();
    }
  }, 240_000);

  it.skipIf(!canRestartNats)(
    'a NATS restart mid-stream: the collector buffers and retries, the worker resumes',
    async () => {
      const mem = memoryLogger();
      const { log, store, collectors } = await setup('RESTART', mem.logger);
      const worker = new ProcessService({
        store,
        log,
        logger: mem.logger,
        detector: 'seed',
        minHistoryDays: MIN_HISTORY_DAYS,
        leaseTtlMs: 3_000,
        idleMs: 20,
      });
      await worker.start();
      let restarted = false;
      try {
        await feedPaced(collectors, 10_000, async (fraction) => {
          if (restarted || fraction < 0.3) return;
          restarted = true;
          stopNats();
          await waitFor('NATS to stop', async () => !(await natsReachable()), 15_000);
          // Keep publishing into the outage for a while.
          await new Promise((r) => setTimeout(r, 3_000));
          expect(collectors.some((c) => c.buffered > 0)).toBe(true);
          startNats();
          await waitFor('NATS to come back', () => natsReachable(), 20_000);
        });
        expect(restarted).toBe(true);
        const end = await ends(log);
        await waitFor('the worker to finish every system', () => caughtUp(store, end), 90_000, 250);
        await worker.stop();
        const text = mem.lines().join('');
        expect(text).toContain('buffering documents in memory and retrying');
        expect(text).toContain('publishing again: draining the buffered documents');
        await expectLikeReference(log, store);
      } finally {
        if (!(await natsReachable())) startNats();
        await worker.stop().catch(() => undefined);
        await store.close();
      }
    },
    240_000,
  );

  it.skipIf(!canRestartPg)(
    'a PostgreSQL restart mid-stream: collector and worker fail clearly, retry, and resume',
    async () => {
      const mem = memoryLogger();
      const schema = uniqueSchema('faults');
      const { log, store, collectors } = await setup('PGRESTART', mem.logger, () => freshPgStore(schema));
      const worker = new ProcessService({
        store,
        log,
        logger: mem.logger,
        detector: 'seed',
        minHistoryDays: MIN_HISTORY_DAYS,
        leaseTtlMs: 3_000,
        idleMs: 20,
      });
      await worker.start();
      let restarted = false;
      try {
        await feedPaced(collectors, 10_000, async (fraction) => {
          if (restarted || fraction < 0.3) return;
          restarted = true;
          // Stop, stay down a while (documents keep coming), start: a restart long enough to see.
          pgCluster('stop');
          expect(await pgUnreachableReason()).not.toBeNull();
          await new Promise((r) => setTimeout(r, 3_000));
          expect(collectors.some((c) => c.buffered > 0)).toBe(true);
          pgCluster('start');
          await waitFor(
            'PostgreSQL to come back',
            async () => (await pgUnreachableReason()) === null,
            30_000,
          );
        });
        expect(restarted).toBe(true);
        const end = await ends(log);
        await waitFor('the worker to finish every system', () => caughtUp(store, end), 90_000, 250);
        await worker.stop();
        const text = mem.lines().join('');
        expect(text).toContain('cannot publish to NATS or save to the store');
        expect(text).toContain('publishing again: draining the buffered documents');
        await expectLikeReference(log, store);
      } finally {
        // Whatever happened, leave the server running for everything after this test.
        if ((await pgUnreachableReason()) !== null) pgCluster('start');
        await waitFor('PostgreSQL to be up', async () => (await pgUnreachableReason()) === null, 30_000);
        await worker.stop().catch(() => undefined);
        await store.close();
        await dropSchema(schema);
      }
    },
    240_000,
  );
});
