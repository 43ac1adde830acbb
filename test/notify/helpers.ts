/**
 * Notification test helpers: a real SQLite store filled through the Store methods (stations,
 * snapshot events that move document time, state changes committed as the detection consumer
 * does), the notification store on the same file, and a real HTTP receiver on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { StationState } from '../../src/detection/index.js';
import type { StationInfo, StationStatus } from '../../src/feed/model.js';
import {
  loadNotifyConfig,
  openSqliteNotifyStore,
  type NotifyConfig,
  type NotifyStore,
} from '../../src/notify/index.js';
import { openStore, type Store } from '../../src/storage/index.js';

export const SYSTEM = 'testbikes';
export const CONSUMER = `detector:${SYSTEM}:seed`;
export const T0 = 1_760_000_000; // a document time (Oct 2025)

/** Three stations: two close together in Paris centre, one 5 km away. */
export const STATIONS: StationInfo[] = [
  {
    stationId: '1001',
    code: '16107',
    name: 'Benjamin Godard - Victor Hugo',
    lat: 48.8656,
    lon: 2.2757,
    capacity: 35,
  },
  { stationId: '1002', code: '16108', name: 'Place de la Muette', lat: 48.8583, lon: 2.2725, capacity: 20 },
  {
    stationId: '1003',
    code: '11104',
    name: 'Charonne - Robert et Sonia Delaunay',
    lat: 48.8555,
    lon: 2.3925,
    capacity: 20,
  },
];

export function statusOf(info: StationInfo): StationStatus {
  return {
    stationId: info.stationId,
    code: info.code,
    bikes: { mechanical: 3, electric: 2, other: 0 },
    bikesDisabled: 0,
    docksAvailable: 10,
    docksDisabled: 0,
    isInstalled: true,
    isRenting: true,
    isReturning: true,
    lastReportedSec: T0,
  };
}

export function tempDir(): { dir: string; file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockwatch-notify-'));
  return {
    dir,
    file: path.join(dir, 'dockwatch.sqlite'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function openBoth(file: string): Promise<{ store: Store; notifyStore: NotifyStore }> {
  const store = await openStore(file);
  const notifyStore = await openSqliteNotifyStore(file);
  return { store, notifyStore };
}

/** System, station information and one status document: what the API's snapshot needs. */
export async function seedStations(store: Store): Promise<void> {
  await store.upsertSystem({
    id: SYSTEM,
    name: 'Test bikes',
    feedUrl: 'http://127.0.0.1:1/gbfs.json',
    timezone: 'Europe/Paris',
  });
  await store.saveStationInfo(SYSTEM, STATIONS);
  await store.commitDiff(SYSTEM, [], {
    lastDocumentSec: T0,
    changed: STATIONS.map(statusOf),
    removed: [],
    capacities: new Map(STATIONS.map((s) => [s.stationId, s.capacity])),
  });
}

/** Appends the snapshot event of a document at `timeSec` (document time moves on). Returns its offset. */
export async function documentAt(store: Store, timeSec: number): Promise<number> {
  const [logged] = await store.log.append([
    { type: 'snapshot', system: SYSTEM, timeSec, stations: STATIONS.length, intervalSec: 60 },
  ]);
  if (!logged) throw new Error(`a document at ${timeSec} was already in the log`);
  return logged.offset;
}

/** A state change caused by the document at `timeSec`, committed as the detection consumer does. */
export async function changeAt(
  store: Store,
  timeSec: number,
  stationId: string,
  from: StationState,
  to: StationState,
): Promise<number> {
  const offset = await documentAt(store, timeSec);
  await store.commitDetection(CONSUMER, offset, [
    {
      system: SYSTEM,
      stationId,
      timeSec,
      from,
      to,
      detector: 'seed',
      confidence: 0.97,
      reason: to === 'ok' ? 'activity_resumed' : 'missing_activity',
      evidence: { expected: 12.5, observed: 0, inactiveSec: 5400 },
      offset,
    },
  ]);
  return offset;
}

export function testConfig(overrides: Partial<NotifyConfig> = {}): NotifyConfig {
  return loadNotifyConfig(
    {},
    {
      allowPrivate: true,
      holdSec: 600,
      backoffBaseMs: 40,
      backoffMaxMs: 400,
      maxAttempts: 5,
      requestTimeoutMs: 2000,
      adminToken: 'test-admin-token-0123456789',
      publicUrl: 'https://dockwatch.example',
      ...overrides,
    },
  );
}

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  status: number;
  atMs: number;
}

/** A local HTTP receiver answering with the statuses of `plan` in turn (the last one repeats). */
export class Receiver {
  readonly requests: Received[] = [];
  private server: http.Server;
  url = '';

  constructor(public plan: number[] = [200]) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.plan[Math.min(this.requests.length, this.plan.length - 1)] ?? 200;
        this.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          status,
          atMs: Date.now(),
        });
        res
          .writeHead(status, { 'content-type': 'text/plain' })
          .end(status >= 300 ? `receiver says ${status}` : 'ok');
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` until it holds (or fails the test after `timeoutMs`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
