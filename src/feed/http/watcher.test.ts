import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { metrics } from '../../metrics/index.js';
import type { FeedHealth } from '../../storage/index.js';
import type { InformationDocument, Rejection, StatusDocument } from '../model.js';
import { FeedWatcher, HttpFetcher, ManualScheduler } from './index.js';

const T0_MS = Date.UTC(2025, 9, 6, 8, 0, 0);
const T0_SEC = T0_MS / 1000;
const MINUTE = 60_000;

/** A small GBFS 2.3 system on 127.0.0.1 whose documents and failures the test controls. */
class GbfsServer {
  statusTimeSec = T0_SEC;
  statusIds = ['a', 'b'];
  infoIds = ['a', 'b'];
  infoTtlSec = 3600;
  infoTimeSec = T0_SEC;
  /** What /station_status.json does. */
  mode: 'ok' | '503' | 'close' | 'malformed' = 'ok';
  readonly hits: Record<string, number> = {};
  base = '';
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const path = req.url!.split('?')[0]!;
      this.hits[path] = (this.hits[path] ?? 0) + 1;
      if (path === '/station_status.json' && this.mode !== 'ok') {
        if (this.mode === '503') return res.writeHead(503).end('maintenance');
        if (this.mode === 'close') return res.destroy();
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"last_updated": 17, "data": {"stat');
      }
      const body = this.body(path);
      if (body === null) return res.writeHead(404).end();
      const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
      if (req.headers['if-none-match'] === etag) return res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/json', etag }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return `${this.base}/gbfs.json`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  count(path: string): number {
    return this.hits[path] ?? 0;
  }

  private body(path: string): string | null {
    const doc = (data: unknown, ttl = 60, t = T0_SEC): string =>
      JSON.stringify({ last_updated: t, ttl, version: '2.3', data });
    switch (path) {
      case '/gbfs.json':
        return doc({
          en: {
            feeds: ['system_information', 'station_information', 'station_status'].map((name) => ({
              name,
              url: `${this.base}/${name}.json`,
            })),
          },
        });
      case '/system_information.json':
        return doc({ system_id: 'test', name: 'Test Bikes', timezone: 'Europe/Paris', language: 'fr' });
      case '/station_information.json':
        return doc(
          {
            stations: this.infoIds.map((id, i) => ({
              station_id: id,
              name: `Station ${id}`,
              lat: 48.85 + i / 100,
              lon: 2.35,
              capacity: 20,
            })),
          },
          this.infoTtlSec,
          this.infoTimeSec,
        );
      case '/station_status.json':
        return doc(
          {
            stations: this.statusIds.map((id) => ({
              station_id: id,
              num_bikes_available: 3,
              num_docks_available: 17,
              is_installed: true,
              is_renting: true,
              is_returning: true,
              last_reported: this.statusTimeSec - 5,
            })),
          },
          60,
          this.statusTimeSec,
        );
      default:
        return null;
    }
  }
}

interface Seen {
  calls: string[];
  statuses: StatusDocument[];
  infos: InformationDocument[];
  rejections: Rejection[];
  health: FeedHealth[];
  logs: { level: number; msg: string; url?: string; nextTryAt?: string }[];
}

let gbfs: GbfsServer;
let watcher: FeedWatcher | null = null;
let systemSeq = 0;

async function setup(opts: { retries?: number; feedPath?: string } = {}) {
  gbfs = new GbfsServer();
  const discoveryUrl = await gbfs.start();
  const clock = new ManualScheduler(T0_MS);
  const seen: Seen = { calls: [], statuses: [], infos: [], rejections: [], health: [], logs: [] };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n'))
        if (line) seen.logs.push(JSON.parse(line) as Seen['logs'][number]);
      cb();
    },
  });
  const system = `test-${++systemSeq}`;
  watcher = new FeedWatcher({
    system,
    feedUrl: opts.feedPath ? gbfs.base + opts.feedPath : discoveryUrl,
    scheduler: clock,
    fetcher: new HttpFetcher({ retries: opts.retries ?? 0, baseDelayMs: 1, timeoutMs: 2000 }),
    logger: pino({ level: 'debug' }, sink),
    handlers: {
      onSystemInformation: (info) => void seen.calls.push(`system:${info.timezone}`),
      onInformation: (doc) => {
        seen.calls.push(`information:${doc.stations.map((s) => s.stationId).join(',')}`);
        seen.infos.push(doc);
      },
      onStatus: (doc, meta) => {
        expect(JSON.parse(meta.raw)).toMatchObject({ last_updated: doc.lastUpdatedSec });
        seen.calls.push(`status:${doc.lastUpdatedSec - T0_SEC}`);
        seen.statuses.push(doc);
      },
      onRejection: (r) => void seen.rejections.push(r),
      onHealth: (h) => void seen.health.push(h),
    },
  });
  /**
   * Move the fake clock, one timer at a time, waiting after each for the poll it triggered to finish
   * its real HTTP (the next timer is only set once a poll is over).
   */
  const tick = async (ms: number): Promise<void> => {
    const targetMs = clock.now() + ms;
    for (let due = clock.nextDueMs(); due !== null && due <= targetMs; due = clock.nextDueMs()) {
      await clock.advance(due - clock.now());
      await watcher!.whenIdle();
    }
    await clock.advance(targetMs - clock.now());
  };
  return { clock, seen, system, tick, watcher };
}

async function metricValue(
  metric: { get(): Promise<{ values: { labels: object; value: number }[] }> },
  labels: object,
) {
  const { values } = await metric.get();
  return (
    values.find((v) =>
      Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
    )?.value ?? 0
  );
}

afterEach(async () => {
  await watcher?.stop();
  watcher = null;
  await gbfs.close();
});

describe('FeedWatcher', () => {
  it('does nothing until start(), bootstraps from gbfs.json, then polls every interval', async () => {
    const { clock, seen, system, tick, watcher } = await setup();
    expect(clock.pending).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(gbfs.hits).toEqual({});

    watcher.start();
    await watcher.whenIdle();
    expect(gbfs.hits).toEqual({
      '/gbfs.json': 1,
      '/system_information.json': 1,
      '/station_information.json': 1,
      '/station_status.json': 1,
    });
    expect(seen.calls).toEqual(['system:Europe/Paris', 'information:a,b', 'status:0']);
    expect(clock.nextDueMs()).toBe(T0_MS + MINUTE);

    await tick(MINUTE - 1);
    expect(gbfs.count('/station_status.json')).toBe(1);
    gbfs.statusTimeSec = T0_SEC + 55;
    await tick(1);
    expect(gbfs.count('/station_status.json')).toBe(2);
    expect(seen.calls.at(-1)).toBe('status:55');

    // Same document again (here: 304 on its ETag): polled, not delivered.
    await tick(MINUTE);
    expect(gbfs.count('/station_status.json')).toBe(3);
    expect(seen.statuses).toHaveLength(2);
    expect(await metricValue(metrics.polls, { system, feed: 'station_status', outcome: 'ok' })).toBe(2);
    expect(
      await metricValue(metrics.polls, { system, feed: 'station_status', outcome: 'not_modified' }),
    ).toBe(1);
    expect(watcher.health()).toMatchObject({
      system,
      lastDocumentSec: T0_SEC + 55,
      stale: false,
      consecutiveFailures: 0,
    });

    await watcher.stop();
    expect(clock.pending).toBe(0);
  });

  it('refetches station_information by its ttl (at least every minute) and delivers only changes', async () => {
    const { seen, tick, watcher } = await setup();
    gbfs.infoTtlSec = 5; // Lyft's ttl: clamped to one minute
    watcher.start();
    await watcher.whenIdle();
    expect(gbfs.count('/station_information.json')).toBe(1);
    gbfs.infoTtlSec = 150;
    gbfs.infoIds = ['a', 'b', 'c'];
    await tick(MINUTE);
    expect(gbfs.count('/station_information.json')).toBe(2); // ttl 5 s → due after 1 min
    expect(seen.calls.at(-1)).toBe('information:a,b,c');
    await tick(MINUTE);
    await tick(MINUTE);
    expect(gbfs.count('/station_information.json')).toBe(2); // ttl 150 s: not due before 3.5 min
    await tick(MINUTE);
    expect(gbfs.count('/station_information.json')).toBe(3);
    expect(seen.infos).toHaveLength(2); // 304: nothing new to deliver
    gbfs.infoTimeSec += 600; // a new last_updated, the same stations: nothing new either
    await tick(3 * MINUTE);
    expect(gbfs.count('/station_information.json')).toBe(4);
    expect(seen.infos).toHaveLength(2);
    expect(seen.calls.filter((c) => c.startsWith('information'))).toHaveLength(2);
  });

  it('refetches the catalogue before delivering a status that names an unknown station', async () => {
    const { seen, tick, watcher } = await setup();
    watcher.start();
    await watcher.whenIdle();
    gbfs.statusIds = ['a', 'b', 'c'];
    gbfs.infoIds = ['a', 'b', 'c'];
    gbfs.statusTimeSec += 60;
    await tick(MINUTE);
    expect(seen.calls.slice(-2)).toEqual(['information:a,b,c', 'status:60']);

    // An id the catalogue never lists: one refetch, then no more until the next ttl refresh.
    gbfs.statusIds = ['a', 'b', 'c', 'ghost'];
    gbfs.statusTimeSec += 60;
    await tick(MINUTE);
    expect(gbfs.count('/station_information.json')).toBe(3);
    gbfs.statusTimeSec += 60;
    await tick(MINUTE);
    expect(gbfs.count('/station_information.json')).toBe(3);
    expect(seen.statuses.at(-1)!.stations.map((s) => s.stationId)).toContain('ghost');
  });

  it('goes stale after 3 intervals without a new document, and fresh again', async () => {
    const { seen, system, tick, watcher } = await setup();
    watcher.start();
    await watcher.whenIdle();
    await tick(3 * MINUTE);
    expect(seen.health).toEqual([]);
    await tick(MINUTE);
    expect(seen.health).toHaveLength(1);
    expect(seen.health[0]).toMatchObject({ system, stale: true, lastDocumentSec: T0_SEC });
    expect(await metricValue(metrics.feedStale, { system })).toBe(1);
    expect(seen.statuses).toHaveLength(1);
    expect(seen.logs.some((l) => /feed stale/.test(l.msg))).toBe(true);

    gbfs.statusTimeSec += 240;
    await tick(MINUTE);
    expect(seen.health.map((h) => h.stale)).toEqual([true, false]);
    expect(await metricValue(metrics.feedStale, { system })).toBe(0);
  });

  it('survives an outage (503, dropped connections), logs it plainly and recovers', async () => {
    const { seen, system, tick, watcher } = await setup({ retries: 1 });
    watcher.start();
    await watcher.whenIdle();
    gbfs.mode = '503';
    await tick(MINUTE);
    gbfs.mode = 'close';
    await tick(MINUTE);
    const warnings = seen.logs.filter((l) => l.level === 40 && l.nextTryAt);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.url).toBe(`${gbfs.base}/station_status.json`);
    expect(warnings[0]!.msg).toBe(
      `GET ${gbfs.base}/station_status.json failed (HTTP 503) after 2 attempts; next try at ${new Date(T0_MS + 2 * MINUTE).toISOString()} (failure 1 in a row)`,
    );
    expect(warnings[1]!.msg).toMatch(
      /failed \(network: .*\) after 2 attempts; next try at .* \(failure 2 in a row\)/,
    );
    expect(watcher.health()).toMatchObject({
      consecutiveFailures: 2,
      lastError: expect.stringMatching(/network/) as string,
    });
    expect(await metricValue(metrics.polls, { system, feed: 'station_status', outcome: 'error' })).toBe(2);
    expect(
      await metricValue(metrics.rejected, { system, feed: 'station_status', reason: 'http_error' }),
    ).toBe(2);

    await tick(2 * MINUTE);
    expect(watcher.health().stale).toBe(true);
    gbfs.mode = 'ok';
    gbfs.statusTimeSec += 300;
    await tick(MINUTE);
    expect(seen.calls.at(-1)).toBe('status:300');
    expect(watcher.health()).toMatchObject({
      consecutiveFailures: 0,
      stale: false,
      lastDocumentSec: T0_SEC + 300,
    });
  });

  it('counts a malformed body, keeps the last good state and goes on', async () => {
    const { seen, system, tick, watcher } = await setup();
    watcher.start();
    await watcher.whenIdle();
    gbfs.mode = 'malformed';
    await tick(MINUTE);
    expect(seen.rejections).toEqual([
      expect.objectContaining({ feed: 'station_status', reason: 'not_json', stationId: null }),
    ]);
    expect(await metricValue(metrics.rejected, { system, feed: 'station_status', reason: 'not_json' })).toBe(
      1,
    );
    expect(watcher.health()).toMatchObject({
      lastDocumentSec: T0_SEC,
      rejected: { not_json: 1 },
      consecutiveFailures: 0,
    });
    gbfs.mode = 'ok';
    gbfs.statusTimeSec += 120;
    await tick(MINUTE);
    expect(seen.calls.at(-1)).toBe('status:120');
  });

  it('rejects a document older than the last one', async () => {
    const { seen, tick, watcher } = await setup();
    gbfs.statusTimeSec = T0_SEC - 10;
    watcher.start();
    await watcher.whenIdle();
    gbfs.statusTimeSec = T0_SEC - 20;
    await tick(MINUTE);
    expect(seen.rejections.map((r) => r.reason)).toEqual(['timestamp_backwards']);
    expect(seen.statuses).toHaveLength(1);
  });

  it('polls a station_status URL directly, with its sibling catalogue', async () => {
    const { seen, watcher } = await setup({ feedPath: '/station_status.json' });
    watcher.start();
    await watcher.whenIdle();
    expect(gbfs.count('/gbfs.json')).toBe(0);
    expect(seen.calls).toEqual(['system:Europe/Paris', 'information:a,b', 'status:0']);
  });
});
