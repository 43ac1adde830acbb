/** GET /state-changes — newest first, filtered, with an opaque cursor for the next page. */
import type { FastifyInstance } from 'fastify';
import { contextOf, type ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { errorResponses, STATION_STATES, stationCodeParam } from '../schemas.js';

const MAX_TIME_SEC = 4_102_444_800; // 2100-01-01: anything later is a unit mistake (ms?)

export function encodeCursor(beforeId: number): string {
  return Buffer.from(`b:${beforeId}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^b:([1-9][0-9]{0,14})$/.exec(text);
  if (!m) throw new ApiError('invalid_cursor', undefined, 'cursor');
  return Number(m[1]);
}

interface Query {
  state?: string;
  station?: string;
  since?: number;
  until?: number;
  limit: number;
  cursor?: string;
}

export function stateChangeRoutes(app: FastifyInstance, base: ApiContext): void {
  app.get<{ Querystring: Query }>(
    '/state-changes',
    {
      schema: {
        summary: 'Latest station state changes (newest first)',
        tags: ['state changes'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...STATION_STATES], description: 'Only changes to this state' },
            station: stationCodeParam,
            since: {
              type: 'integer',
              minimum: 0,
              maximum: MAX_TIME_SEC,
              description: 'POSIX seconds, inclusive',
            },
            until: {
              type: 'integer',
              minimum: 0,
              maximum: MAX_TIME_SEC,
              description: 'POSIX seconds, inclusive',
            },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['changes', 'nextCursor'],
            properties: {
              changes: { type: 'array', items: { $ref: 'StateChange#' } },
              nextCursor: {
                type: ['string', 'null'],
                description: 'Pass as ?cursor= for the next (older) page',
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req, base);
      const q = req.query;
      if (q.since !== undefined && q.until !== undefined && q.since > q.until) {
        throw new ApiError('invalid_range', '"since" is after "until".', 'since');
      }
      const beforeId = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const snap = await ctx.snapshots.current();
      let stationId: string | undefined;
      if (q.station !== undefined) {
        const v = snap.byCode.get(q.station) ?? snap.byId.get(q.station);
        if (!v) throw new ApiError('station_not_found', `No station has the code "${q.station}".`, 'station');
        stationId = v.id;
      }
      const rows = await ctx.store.listStateChanges({
        system: ctx.systemId,
        stationId,
        state: q.state,
        sinceSec: q.since,
        untilSec: q.until,
        beforeId,
        limit: q.limit + 1, // one more tells whether there is a next page
      });
      const page = rows.slice(0, q.limit);
      const changes = page.map((c) => {
        const v = snap.byId.get(c.stationId);
        return { ...c, code: v?.code ?? c.stationId, name: v?.name ?? null };
      });
      const last = page[page.length - 1];
      reply.header('cache-control', ctx.dataCacheControl);
      return { changes, nextCursor: rows.length > q.limit && last ? encodeCursor(last.id) : null };
    },
  );
}
