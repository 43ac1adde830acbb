/**
 * The simulator over HTTP (node:http: the outage fault needs the raw socket to reset it).
 *   /gbfs.json, /system_information.json, /station_information.json, /station_status.json,
 *   /vehicle_types.json                       GBFS 2.3
 *   /velib/gbfs.json, /velib/…                the Vélib' Métropole dialect of the same system
 *   /control/…                                see control.ts
 * The state advances lazily, in whole steps, to the simulated time of each request (or on a timer
 * with `tickMs`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../log/index.js';
import { SimClock } from './clock.js';
import { controlState, handleControl, type ControlContext, type ControlState } from './control.js';
import { feedsOf, type SimShape } from './documents.js';
import { SIM_FEEDS, type FaultSpec, type FaultSpecInput, type SimFeed } from './fault-spec.js';
import { render, sendJson, sendRendered, type Rendered } from './http-cache.js';
import { malformedBody } from './malformed.js';
import { Simulation, type SimulationOptions } from './simulation.js';

export interface SimulatorOptions extends Omit<SimulationOptions, 'startSec'> {
  /** Simulated start, POSIX seconds; default now. */
  startSec?: number;
  /** Simulated seconds per real second; default 1; 0 = paused (move time with advanceSec). */
  speed?: number;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Advance the state on a timer too (real ms); default: only when a document is requested. */
  tickMs?: number;
  logger?: Logger;
}

export interface SimulatorHandle {
  /** Base URL, e.g. http://127.0.0.1:41234 (GBFS at /gbfs.json, Vélib' at /velib/gbfs.json). */
  url: string;
  close(): Promise<void>;
  injectFault(f: FaultSpec | FaultSpecInput): string;
  /** Ends a fault now; false when unknown or already cleared. */
  clearFault(id: string): boolean;
  /** Simulated time now, POSIX seconds. */
  nowSec(): number;
  /** Moves simulated time forward. */
  advanceSec(sec: number): void;
  setSpeed(speed: number): void;
  /** What GET /control/state answers. */
  state(): ControlState;
  simulation: Simulation;
}

const FEED_SET = new Set<string>(SIM_FEEDS);

export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const logger = opts.logger ?? silentLogger;
  const startSec = opts.startSec ?? Math.floor(Date.now() / 1000);
  const sim = new Simulation({ ...opts, startSec });
  const clock = new SimClock(sim.startSec, opts.speed ?? 1);
  const host = opts.host ?? '127.0.0.1';
  let baseUrl = '';
  const ctx: ControlContext = { sim, clock, logger, baseUrl: () => baseUrl };
  const cache = new Map<string, { key: string; rendered: Rendered }>();

  function serveFeed(req: IncomingMessage, res: ServerResponse, shape: SimShape, feed: SimFeed): void {
    const now = clock.nowSec();
    const outage = sim.faults.outageAt(now);
    if (outage) {
      if (outage.mode === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      const retryMs = outage.endSec === null ? Infinity : clock.realMsUntil(outage.endSec);
      if (Number.isFinite(retryMs)) res.setHeader('Retry-After', Math.max(1, Math.ceil(retryMs / 1000)));
      return sendJson(res, 503, { code: 'unavailable', message: 'feed temporarily unavailable' });
    }
    sim.advanceTo(now);
    const host = req.headers.host ? `http://${req.headers.host}` : baseUrl;
    const lastUpdated = sim.lastUpdatedSec(feed);
    const spoiled = sim.faults.takeMalformed(feed, now);
    if (spoiled) {
      const good = JSON.stringify(sim.document(shape, feed, host));
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end(malformedBody(spoiled.mode, spoiled.serial, good, lastUpdated));
      return;
    }
    const isStatus = feed === 'station_status';
    const key = `${isStatus ? sim.model.version : 0}|${lastUpdated}|${feed === 'gbfs' ? host : ''}`;
    const cacheKey = `${shape}/${feed}`;
    let entry = cache.get(cacheKey);
    if (!entry || entry.key !== key) {
      const doc = sim.document(shape, feed, host) as object;
      entry = { key, rendered: render(doc, isStatus ? sim.model.timeSec : sim.startSec) };
      cache.set(cacheKey, entry);
    }
    sendRendered(req, res, entry.rendered);
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (path.startsWith('/control/')) {
      void handleControl(ctx, req, res, path);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, {
        code: 'method_not_allowed',
        message: `${req.method} not allowed on ${path}`,
      });
    }
    if (path === '/') {
      return sendJson(res, 200, {
        gbfs: `${baseUrl}/gbfs.json`,
        velib: `${baseUrl}/velib/gbfs.json`,
        control: `${baseUrl}/control/state`,
      });
    }
    const shape: SimShape = path.startsWith('/velib/') ? 'velib' : 'gbfs';
    const file = shape === 'velib' ? path.slice('/velib'.length) : path;
    const feed = /^\/([a-z_]+)\.json$/.exec(file)?.[1];
    if (feed !== undefined && FEED_SET.has(feed) && (feed === 'gbfs' || feedsOf(shape).includes(feed))) {
      return serveFeed(req, res, shape, feed as SimFeed);
    }
    sendJson(res, 404, { code: 'not_found', message: `no document at ${path}` });
  }

  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (err) {
      logger.error({ err, url: req.url }, 'simulator request failed');
      if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: (err as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  const timer = opts.tickMs ? setInterval(() => sim.advanceTo(clock.nowSec()), opts.tickMs) : null;
  timer?.unref();
  logger.info(
    { url: baseUrl, stations: sim.stations.length, seed: sim.seed, speed: clock.speed },
    'simulator listening',
  );

  return {
    url: baseUrl,
    simulation: sim,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (timer) clearInterval(timer);
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    injectFault: (f) => sim.inject(f, clock.nowSec()),
    clearFault: (id) => sim.clear(id, clock.nowSec()),
    nowSec: () => clock.nowSec(),
    advanceSec: (sec) => clock.advance(sec),
    setSpeed: (speed) => clock.setSpeed(speed),
    state: () => controlState(ctx),
  };
}
