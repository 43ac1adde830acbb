/**
 * Notification test helpers: a real SQLite store filled through the Store methods (stations,
 * snapshot events that move document time, state changes committed as the detection consumer
 * does), the notification store on the same file, the notifier and service wired as
 * openNotifications wires them, the API over real HTTP, and a real HTTP receiver on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { createApiServer, createLiveBus } from '../../src/api/index.js';
import type { StationState } from '../../src/detection/index.js';
import type { StationInfo, StationStatus } from '../../src/feed/model.js';
import { silentLogger } from '../../src/log/index.js';
import {
  loadNotifyConfig,
  Notifier,
  NotifyService,
  openSqliteNotifyStore,
  type NotifierOptions,
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

/** The two stores of one test; `reopen()` closes and opens them again, as a restart would. */
export interface NotifyDb {
  tmp: ReturnType<typeof tempDir>;
  store: Store;
  notifyStore: NotifyStore;
  reopen(): Promise<void>;
}

/**
 * Before each test of the calling describe: a fresh SQLite file with the test stations, the
 * pipeline's store and the notification store on it; after it, both closed and the file removed.
 * Register it before the describe's own hooks: vitest runs after-hooks in reverse, so whatever
 * the test opens on top (a server, a receiver) is closed before the stores.
 */
export function useNotifyDb(): NotifyDb {
  const db = {
    async reopen() {
      await db.notifyStore.close();
      await db.store.close();
      Object.assign(db, await openBoth(db.tmp.file));
    },
  } as NotifyDb;
  beforeEach(async () => {
    db.tmp = tempDir();
    Object.assign(db, await openBoth(db.tmp.file));
    await seedStations(db.store);
  });
  afterEach(async () => {
    await db.notifyStore.close();
    await db.store.close();
    db.tmp.cleanup();
  });
  return db;
}

/** The notifier and the service the routes use, on one config, wired as openNotifications does. */
export async function openNotifier(
  db: { store: Store; notifyStore: NotifyStore },
  config: NotifyConfig = testConfig(),
  extra: Partial<NotifierOptions> = {},
): Promise<{ notifier: Notifier; service: NotifyService }> {
  const notifier = await Notifier.open({
    system: SYSTEM,
    timeZone: 'Europe/Paris',
    store: db.store,
    notifyStore: db.notifyStore,
    config,
    ...extra,
  });
  const service = new NotifyService({
    system: SYSTEM,
    notifyStore: db.notifyStore,
    config,
    vapidPublicKey: notifier.vapidPublicKey,
  });
  return { notifier, service };
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

/** A change of `stationId` to `to` at `at` that held: a document `holdSec` later is in the log. */
export async function heldChange(
  store: Store,
  stationId = '1001',
  at = T0 + 60,
  to: StationState = 'locked',
  holdSec = 600,
): Promise<void> {
  await changeAt(store, at, stationId, 'ok', to);
  await documentAt(store, at + holdSec);
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

export interface ApiResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown> | null;
}

/** The API with the notification routes, listening on 127.0.0.1, and a JSON client for it. */
export interface TestApi {
  app: FastifyInstance;
  notifier: Notifier;
  service: NotifyService;
  /** Base URL of the API: `http://127.0.0.1:<port>/api/v1`. */
  base: string;
  call: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<ApiResponse>;
}

export async function startApi(
  db: { store: Store; notifyStore: NotifyStore },
  config: NotifyConfig,
): Promise<TestApi> {
  const { notifier, service } = await openNotifier(db, config);
  const app = await createApiServer({
    store: db.store,
    systemId: SYSTEM,
    timezone: 'Europe/Paris',
    pollIntervalSec: 60,
    live: createLiveBus(),
    logger: silentLogger,
    notify: service,
  });
  const base = `${await app.listen({ host: '127.0.0.1', port: 0 })}/api/v1`;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    };
  };
  return { app, notifier, service, base, call };
}

/**
 * The body of POST /push/subscriptions as a browser sends it. The keys have the right shapes (an
 * uncompressed P-256 point, a 16-byte secret) but encrypt for nobody: for tests that never send.
 */
export function pushSubscriptionBody(
  endpoint: string,
  stations: string[] = ['16107'],
  lang: 'fr' | 'en' = 'en',
): {
  subscription: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  stations: string[];
  lang: 'fr' | 'en';
} {
  const p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url');
  return {
    subscription: {
      endpoint,
      expirationTime: null,
      keys: { p256dh, auth: Buffer.alloc(16, 1).toString('base64url') },
    },
    stations,
    lang,
  };
}
