/** What every route needs, built once by createApiServer. */
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../log/index.js';
import type { Store } from '../storage/index.js';
import type { ActivityService } from './activity.js';
import type { LiveBus } from './live.js';
import type { SnapshotCache } from './snapshot.js';

export interface ApiContext {
  store: Store;
  systemId: string;
  timezone: string;
  pollIntervalSec: number;
  live: LiveBus;
  logger: Logger;
  snapshots: SnapshotCache;
  activity: ActivityService;
  tileUrl: string;
  tileAttribution: string;
  language: string;
  /** Cache-Control for data that changes at most once per poll. */
  dataCacheControl: string;
  /** Re-reads the store for news when no pipeline publishes to `live` here (see SystemContexts). */
  refresh?: () => Promise<void>;
}

/**
 * Data changes at most once per poll: let caches keep it half an interval, then revalidate with
 * the ETag (a 304 costs nothing) — and keep serving the stale copy while they do.
 */
export function dataCacheControl(pollIntervalSec: number): string {
  const maxAge = Math.max(1, Math.floor(pollIntervalSec / 2));
  return `public, max-age=${maxAge}, stale-while-revalidate=${pollIntervalSec}`;
}

/**
 * The same route plugins serve the default system (/api/v1/…) and any system of the store
 * (/api/v1/systems/:system/…): a hook of the prefixed scope binds the request to its system's
 * context, and handlers read it with `contextOf(req, base)` (`base` = the default system's).
 */
const bound = new WeakMap<FastifyRequest, ApiContext>();

export function bindContext(req: FastifyRequest, ctx: ApiContext): void {
  bound.set(req, ctx);
}

export function contextOf(req: FastifyRequest, base: ApiContext): ApiContext {
  return bound.get(req) ?? base;
}

/**
 * The system of a request made under a /…/systems/:system/ prefix; undefined for the unprefixed
 * (default system's) routes. Links a response builds use it to stay under the same prefix.
 */
export function prefixedSystem(req: FastifyRequest): string | undefined {
  return bound.get(req)?.systemId;
}
