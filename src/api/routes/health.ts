/** /healthz (liveness), /readyz (feed fresh, database writable), /metrics (Prometheus). */
import type { FastifyInstance } from 'fastify';
import { registry } from '../../metrics/index.js';
import type { ApiContext } from '../context.js';

const READY_CACHE_MS = 1000;

export interface Readiness {
  ready: boolean;
  feed: {
    fresh: boolean;
    lastDocumentSec: number | null;
    lastSuccessSec: number | null;
    reason: string | null;
  };
  database: { writable: boolean; reason: string | null };
}

async function checkReadiness(ctx: ApiContext): Promise<Readiness> {
  const nowSec = Math.floor(Date.now() / 1000);
  let feed: Readiness['feed'];
  try {
    const h = await ctx.store.feedHealth(ctx.systemId);
    // Fresh = the watcher got a document within a few poll intervals and does not call it stale.
    const maxAgeSec = Math.max(3 * ctx.pollIntervalSec, 180);
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
  let database: Readiness['database'];
  try {
    // Writing back the system's own record is idempotent and proves the database accepts writes.
    const system = (await ctx.store.listSystems()).find((s) => s.id === ctx.systemId);
    if (!system) database = { writable: false, reason: 'system not registered yet' };
    else {
      await ctx.store.upsertSystem(system);
      database = { writable: true, reason: null };
    }
  } catch (err) {
    database = { writable: false, reason: `write failed: ${String(err)}` };
  }
  return { ready: feed.fresh && database.writable, feed, database };
}

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  let cached: { atMs: number; value: Promise<Readiness> } | null = null;

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
        summary: 'Readiness: the feed is fresh and the database writable (503 otherwise)',
        tags: ['operations'],
        response: {
          200: { $ref: 'Readiness#' },
          503: { $ref: 'Readiness#' },
        },
      },
    },
    async (_req, reply) => {
      // Probes may hammer this; one database write per second is plenty.
      if (!cached || Date.now() - cached.atMs > READY_CACHE_MS)
        cached = { atMs: Date.now(), value: checkReadiness(ctx) };
      const r = await cached.value;
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

export const readinessSchema = {
  $id: 'Readiness',
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    feed: {
      type: 'object',
      properties: {
        fresh: { type: 'boolean' },
        lastDocumentSec: { type: ['integer', 'null'] },
        lastSuccessSec: { type: ['integer', 'null'] },
        reason: { type: ['string', 'null'] },
      },
    },
    database: {
      type: 'object',
      properties: { writable: { type: 'boolean' }, reason: { type: ['string', 'null'] } },
    },
  },
} as const;
