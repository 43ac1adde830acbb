/**
 * The control endpoints of the simulator, for tests, demos and people:
 *   GET    /control/state          simulated time, totals, every fault with its status (ground truth)
 *   POST   /control/faults         a fault (or an array of faults) as JSON → 201 { id } / { ids }
 *   GET    /control/faults         the faults only
 *   DELETE /control/faults/:id     ends a fault now → 204, 404 when unknown
 *   POST   /control/clock          { "advanceSec": n } and/or { "speed": x }
 * Errors are JSON { code, message } with a 4xx status; nothing here can crash the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/index.js';
import { FaultSpecError } from './fault-spec.js';
import { sendJson } from './http-cache.js';
import type { SimClock } from './clock.js';
import type { FaultView } from './faults.js';
import type { Simulation } from './simulation.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface ControlContext {
  sim: Simulation;
  clock: SimClock;
  logger: Logger;
  baseUrl: () => string;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new ControlError(413, 'body_too_large', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ControlError(400, 'bad_json', `body is not JSON: ${(err as Error).message}`);
  }
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What GET /control/state answers. */
export interface ControlState {
  /** Simulated time now. */
  nowSec: number;
  /** Time of the simulated state (whole steps; ≤ nowSec). */
  stateTimeSec: number;
  startSec: number;
  speed: number;
  simStepSec: number;
  seed: number;
  timezone: string;
  stations: number;
  totals: { bikes: number; docksAvailable: number; capacity: number };
  urls: { gbfs: string; velib: string };
  /** Every fault ever injected, with its status: the ground truth of end-to-end tests. */
  faults: FaultView[];
}

export function controlState(ctx: ControlContext): ControlState {
  const now = ctx.clock.nowSec();
  ctx.sim.advanceTo(now);
  const base = ctx.baseUrl();
  return {
    nowSec: Math.floor(now),
    stateTimeSec: ctx.sim.model.timeSec,
    startSec: ctx.sim.startSec,
    speed: ctx.clock.speed,
    simStepSec: ctx.sim.stepSec,
    seed: ctx.sim.seed,
    timezone: ctx.sim.meta.timezone,
    stations: ctx.sim.stations.length,
    totals: ctx.sim.totals(),
    urls: { gbfs: `${base}/gbfs.json`, velib: `${base}/velib/gbfs.json` },
    faults: ctx.sim.faults.list(now),
  };
}

export async function handleControl(
  ctx: ControlContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  try {
    await route(ctx, req, res, path);
  } catch (err) {
    if (err instanceof ControlError)
      return sendJson(res, err.status, { code: err.code, message: err.message });
    if (err instanceof FaultSpecError)
      return sendJson(res, 400, { code: 'invalid_fault', message: err.message });
    ctx.logger.error({ err }, 'simulator control request failed');
    sendJson(res, 500, { code: 'internal', message: (err as Error).message });
  }
}

async function route(
  ctx: ControlContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (path === '/control/state' && method === 'GET') return sendJson(res, 200, controlState(ctx));
  if (path === '/control/faults' && method === 'GET') {
    return sendJson(res, 200, { faults: ctx.sim.faults.list(ctx.clock.nowSec()) });
  }
  if (path === '/control/faults' && method === 'POST') {
    const body = await readJson(req);
    const now = ctx.clock.nowSec();
    if (Array.isArray(body)) {
      const ids = body.map((f) => ctx.sim.inject(f, now));
      ctx.logger.info({ ids }, 'simulator faults injected');
      return sendJson(res, 201, { ids });
    }
    const id = ctx.sim.inject(body, now);
    ctx.logger.info({ id, fault: body }, 'simulator fault injected');
    return sendJson(res, 201, { id });
  }
  if (path.startsWith('/control/faults/') && method === 'DELETE') {
    const id = decodeURIComponent(path.slice('/control/faults/'.length));
    if (!ctx.sim.clear(id, ctx.clock.nowSec()))
      throw new ControlError(404, 'unknown_fault', `no active fault "${id}"`);
    ctx.logger.info({ id }, 'simulator fault cleared');
    res.statusCode = 204;
    res.end();
    return;
  }
  if (path === '/control/clock' && method === 'POST') {
    const body = (await readJson(req)) as { advanceSec?: unknown; speed?: unknown } | null;
    const advance = body?.advanceSec;
    const speed = body?.speed;
    if (advance !== undefined && !(typeof advance === 'number' && advance >= 0 && Number.isFinite(advance))) {
      throw new ControlError(400, 'bad_parameter', 'advanceSec must be a number ≥ 0');
    }
    if (speed !== undefined && !(typeof speed === 'number' && speed >= 0 && Number.isFinite(speed))) {
      throw new ControlError(400, 'bad_parameter', 'speed must be a number ≥ 0');
    }
    if (typeof speed === 'number') ctx.clock.setSpeed(speed);
    if (typeof advance === 'number') ctx.clock.advance(advance);
    return sendJson(res, 200, controlState(ctx));
  }
  if (knownPath(path)) throw new ControlError(405, 'method_not_allowed', `${method} not allowed on ${path}`);
  throw new ControlError(404, 'not_found', `no control endpoint ${path}`);
}

function knownPath(path: string): boolean {
  return (
    path === '/control/state' ||
    path === '/control/faults' ||
    path === '/control/clock' ||
    path.startsWith('/control/faults/')
  );
}
