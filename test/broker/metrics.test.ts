/**
 * GET /metrics of the roles without the API: `collect` counts the documents it published (per
 * system, with the newest document time); `process` reports its consumer lag (events of the
 * system's subjects still pending after its last batch) and what it processed. A slow store
 * (commits held back) keeps the lag up and loses nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJetStreamLog } from '../../src/broker/index.js';
import { startCollect, startProcess, type RunningRole } from '../../src/cli/roles.js';
import { silentLogger } from '../../src/log/index.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { ProcessService } from '../../src/service/process-service.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import { startSimulatedSequenceFeed, type SequenceFeed } from '../helpers/sequence-feed.js';
import { waitFor } from './fixture.js';
import { NATS_URL, natsUp, uniqueStream } from './nats.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Value of one sample of a Prometheus text exposition; null when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | null {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    if (line.slice(name.length + 1, close) === want) return Number(line.slice(close + 2));
  }
  return null;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

/** A store whose commits can be held back (a database that stalls), then let through. */
function slowStore(store: Store): { store: Store; stall: () => void; resume: () => void } {
  let gate: Promise<void> | null = null;
  let release = (): void => undefined;
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'commitActivity') {
        return async (...args: Parameters<Store['commitActivity']>) => {
          if (gate) await gate;
          return target.commitActivity(...args);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    store: proxy,
    stall: () => {
      gate ??= new Promise<void>((r) => (release = r));
    },
    resume: () => {
      release();
      gate = null;
    },
  };
}

describe.skipIf(!natsUp)('/metrics of collect and process', () => {
  it('collect counts published documents; process reports its lag, growing while the store is stuck, then zero', async () => {
    const fromSec = Date.UTC(2026, 4, 4, 6) / 1000;
    const docCount = 30;
    const lastSec = fromSec + (docCount - 1) * 600;
    const systems = ['alpha', 'beta'];
    const feeds: SequenceFeed[] = [];
    for (const system of systems) {
      feeds.push(
        await startSimulatedSequenceFeed({
          system,
          seed: `metrics-${system}`,
          stations: 30,
          fromSec,
          docCount,
          timezone: 'Europe/Paris',
        }),
      );
    }
    const systemsFile = path.join(dir, 'systems.yaml');
    writeFileSync(
      systemsFile,
      'systems:\n' +
        systems
          .map((id, i) => `  - { id: ${id}, feedUrl: "${feeds[i]!.url}/gbfs.json", pollIntervalSec: 0.3 }\n`)
          .join(''),
    );
    const database = path.join(dir, 'metrics.sqlite');
    const stream = uniqueStream('METRICS');
    const common = { database, natsUrl: NATS_URL, stream, logLevel: 'silent' };
    const running: RunningRole[] = [];
    const log = await openJetStreamLog({ url: NATS_URL, stream });
    const workerLog = await openJetStreamLog({ url: NATS_URL, stream });
    const store = openSqliteStore({ path: database });
    await store.migrate();
    const slow = slowStore(store);
    const service = new ProcessService({
      store: slow.store,
      log: workerLog,
      logger: silentLogger,
      detector: 'seed',
      minHistoryDays: 1,
      leaseTtlMs: 3_000,
      batchSize: 50,
      idleMs: 50,
      lagEveryMs: 200,
    });
    const metricsServer = await startMetricsServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    const lag = (text: string, system: string): number | null =>
      sample(text, 'dockwatch_consumer_lag_events', { consumer: `activity:${system}` });
    try {
      const collect = await startCollect({ ...common, systems: systemsFile, metricsPort: '0' });
      running.push(collect);
      expect(collect.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await service.start();

      // Steady state: the worker keeps up with the collector.
      await waitFor(
        'a few documents processed of each system',
        async () => {
          const text = await scrape(metricsServer.url);
          return systems.every(
            (system) => (sample(text, 'dockwatch_process_documents_total', { system }) ?? 0) >= 3,
          );
        },
        60_000,
        100,
      );
      // The store gets stuck: the collector goes on publishing, the lag grows to all that is left.
      slow.stall();
      await waitFor('both feeds served to the end', () => feeds.every((f) => f.done()), 60_000);
      await waitFor(
        'every document published',
        async () => {
          const text = await scrape(collect.metricsUrl!);
          return systems.every(
            (system) =>
              sample(text, 'dockwatch_collector_published_documents_total', { system }) === docCount &&
              sample(text, 'dockwatch_collector_published_document_time_seconds', { system }) === lastSec,
          );
        },
        30_000,
        200,
      );
      const left = new Map<string, number>();
      for (const system of systems) {
        const committed = await store.log.consumerOffset(`activity:${system}`);
        const events = await log.forSystem(system).read(0, 1_000_000);
        left.set(system, events.filter((e) => e.offset > committed).length);
      }
      for (const system of systems) expect(left.get(system)).toBeGreaterThan(0);
      await waitFor(
        'the lag shows every event not committed',
        async () => {
          const text = await scrape(metricsServer.url);
          return systems.every((system) => lag(text, system) === left.get(system));
        },
        10_000,
        100,
      );
      const stuck = await scrape(metricsServer.url);
      for (const system of systems)
        expect(sample(stuck, 'dockwatch_consumer_lag_events', { consumer: `detector:${system}:seed` })).toBe(
          left.get(system),
        );

      slow.resume();
      await waitFor(
        'caught up: no lag, every document processed once',
        async () => {
          const text = await scrape(metricsServer.url);
          return systems.every(
            (system) =>
              lag(text, system) === 0 &&
              sample(text, 'dockwatch_process_documents_total', { system }) === docCount &&
              sample(text, 'dockwatch_process_document_time_seconds', { system }) === lastSec,
          );
        },
        60_000,
        200,
      );
      for (const system of systems)
        expect(await store.log.consumerOffset(`activity:${system}`)).toBe(
          await log.forSystem(system).lastOffset(),
        );
      const other = await fetch(`${metricsServer.url}/nothing`);
      expect(other.status).toBe(404);
      expect(await other.json()).toMatchObject({ code: 'not_found' });
      await service.stop();

      // The process role serves the same registry when asked; a bad port is refused up front.
      const proc = await startProcess({ ...common, leaseTtlSec: '3', metricsPort: '0' });
      running.push(proc);
      expect(await scrape(proc.metricsUrl!)).toContain('dockwatch_process_owned_systems');
      await expect(startProcess({ ...common, metricsPort: 'eighty' })).rejects.toThrow(
        /--metrics-port must be a port number/,
      );
    } finally {
      slow.resume();
      await service.stop();
      await metricsServer.close();
      for (const r of running.reverse()) await r.stop();
      for (const f of feeds) await f.close();
      await workerLog.close();
      await store.close();
      await log.destroy();
      await log.close();
    }
  }, 180_000);
});
