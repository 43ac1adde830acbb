/**
 * /healthz (liveness), /readyz (feed fresh, database writable), /metrics (Prometheus).
 *
 * With several systems in the store, /readyz judges one system's feed — the default one, or
 * `?system=<id>` — and lists every system's freshness beside it: a replica serving many systems
 * must not leave the load balancer because one of them went stale, but must not hide it either.
 */
import type { FastifyInstance } from 'fastify';
import { registry } from '../../metrics/index.js';
import type { Store } from '../../storage/index.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import type { SystemContexts } from '../systems.js';

const READY_CACHE_MS = 1000;

interface FeedFreshness {
  fresh: boolean;
  lastDocumentSec: number | null;
  lastSuccessSec: number | null;
  reason: string | null;
}

export interface Readiness {
  ready: boolean;
  /** The system whose feed `ready` and `feed` speak of. */
  system: string;
  feed: FeedFreshness;
  database: { writable: boolean; reason: string | null };
  /** Every system of the store, by id (the one above included). */
  systems: (FeedFreshness & { id: string })[];
}

async function feedFreshness(
  store: Store,
  systemId: string,
  pollIntervalSec: number,
): Promise<FeedFreshness> {
  const nowSec = Math.floor(Date.now() / 1000);
  let feed: FeedFreshness;
  try {
    const h = await store.feedHealth(systemId);
    // Fresh = the watcher got a document within a few poll intervals and does not call it stale.
    const maxAgeSec = Math.max(3 * pollIntervalSec, 180);
    if (!h) feed = { fresh: false, lastDocumentSec: null, lastSuccessSec: null, reason: 'no document yet' };
    else if (h.stale)
      feed = {
        fresh: false,
        lastDocumentSec: h.lastDocumentSec,
        lastSuccessSec: h.lastSuccessSec,
        reason: 'feed is stale',
      };
    else if (h.lastSuccessSec === null || nowSec - h.lastSuccessSec > maxAgeSec)
      feed = {
        fresh: false,
        lastDocumentSec: h.lastDocumentSec,
        lastSuccessSec: h.lastSuccessSec,
        reason: `no successful poll for over ${maxAgeSec} s`,
      };
    else
      feed = {
        fresh: true,
        lastDocumentSec: h.lastDocumentSec,
        lastSuccessSec: h.lastSuccessSec,
        reason: null,
      };
  } catch (err) {
    feed = {
      fresh: false,
      lastDocumentSec: null,
      lastSuccessSec: null,
      reason: `cannot read feed health: ${String(err)}`,
    };
  }
  return feed;
}

async function checkReadiness(ctx: ApiContext, systemId: string): Promise<Readiness> {
  const { store, pollIntervalSec } = ctx;
  const all = await store.listSystems().catch(() => null);
  const [feed, systems] = await Promise.all([
    feedFreshness(store, systemId, pollIntervalSec),
    Promise.all(
      [...(all ?? [])]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map(async (s) => ({ id: s.id, ...(await feedFreshness(store, s.id, pollIntervalSec)) })),
    ),
  ]);
  let database: Readiness['database'];
  try {
    // Writing back the system's own record is idempotent and proves the database accepts writes.
    const system = (all ?? (await store.listSystems())).find((s) => s.id === systemId);
    if (!system) database = { writable: false, reason: 'system not registered yet' };
    else {
      await store.upsertSystem(system);
      database = { writable: true, reason: null };
    }
  } catch (err) {
    database = { writable: false, reason: `write failed: ${String(err)}` };
  }
  return { ready: feed.fresh && database.writable, system: systemId, feed, database, systems };
}

export function healthRoutes(app: FastifyInstance, ctx: ApiContext, systems: SystemContexts): void {
  // One entry per system asked about (bounded by the systems of the store: unknown ids are refused).
  const cached = new Map<string, { atMs: number; value: Promise<Readiness> }>();

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['operations'],
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return { status: 'ok' };
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary:
          'Readiness: the feed of the default system (or of ?system=) is fresh and the database writable (503 otherwise); every system’s freshness is listed',
        tags: ['operations'],
        querystring: {
          type: 'object',
          properties: {
            system: { type: 'string', minLength: 1, maxLength: 100, description: 'Judge this system’s feed' },
          },
        },
        response: {
          200: { $ref: 'Readiness#' },
          404: { $ref: 'ApiError#' },
          503: { $ref: 'Readiness#' },
        },
      },
    },
    async (req, reply) => {
      const asked = (req.query as { system?: string }).system;
      const systemId = asked ?? ctx.systemId;
      // A store that cannot list its systems is reported below (503), not as an unknown id.
      if (asked !== undefined && !(await systems.has(asked).catch(() => true)))
        throw new ApiError('system_not_found', `No system has the id "${asked}".`, 'system');
      // Probes may hammer this; one database write per second (per system asked) is plenty.
      let entry = cached.get(systemId);
      if (!entry || Date.now() - entry.atMs > READY_CACHE_MS) {
        entry = { atMs: Date.now(), value: checkReadiness(ctx, systemId) };
        cached.set(systemId, entry);
      }
      const r = await entry.value;
      reply.header('cache-control', 'no-store').code(r.ready ? 200 : 503);
      return r;
    },
  );

  app.get(
    '/metrics',
    { compress: false, schema: { summary: 'Prometheus metrics', tags: ['operations'], hide: false } },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store').type(registry.contentType);
      return registry.metrics();
    },
  );
}

const freshnessProperties = {
  fresh: { type: 'boolean' },
  lastDocumentSec: { type: ['integer', 'null'] },
  lastSuccessSec: { type: ['integer', 'null'] },
  reason: { type: ['string', 'null'] },
} as const;

export const readinessSchema = {
  $id: 'Readiness',
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    system: { type: 'string', description: 'The system whose feed `ready` and `feed` speak of' },
    feed: { type: 'object', properties: freshnessProperties },
    database: {
      type: 'object',
      properties: { writable: { type: 'boolean' }, reason: { type: ['string', 'null'] } },
    },
    systems: {
      type: 'array',
      description: 'Every system of the store and whether its feed is fresh',
      items: { type: 'object', properties: { id: { type: 'string' }, ...freshnessProperties } },
    },
  },
} as const;
