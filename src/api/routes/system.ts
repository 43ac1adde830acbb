/** GET /activity, /stats, /config — system-level views; /systems — the systems of the store. */
import type { FastifyInstance } from 'fastify';
import { contextOf, type ApiContext } from '../context.js';
import type { SystemContexts } from '../systems.js';
import { ApiError } from '../errors.js';
import { countByState } from '../snapshot.js';
import { errorResponses } from '../schemas.js';
import type { SystemRecord } from '../../storage/index.js';
import { lockStatistics } from '../stats.js';

const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

export function systemRoutes(app: FastifyInstance, base: ApiContext): void {
  app.get(
    '/activity',
    {
      schema: {
        summary: 'System totals: rentals / returns today per 10-min slot vs usual; stations per state',
        tags: ['system'],
        querystring: noQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              system: { type: 'string' },
              timezone: { type: 'string' },
              timeSec: { type: 'integer' },
              activity: { $ref: 'Activity#' },
              totals: {
                type: 'object',
                properties: {
                  rentedToday: { type: 'integer' },
                  returnedToday: { type: 'integer' },
                  usualRentedByNow: { type: 'number' },
                },
              },
              states: { $ref: 'StateCounts#' },
              stations: { type: 'integer' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req, base);
      const snap = await ctx.snapshots.current();
      const activity = await ctx.activity.system(snap.timeSec);
      let rentedToday = 0;
      let returnedToday = 0;
      let usualRentedByNow = 0;
      for (let i = 0; i < 144; i++) {
        rentedToday += activity.today.rented[i]!;
        returnedToday += activity.today.returned[i]!;
        if (i <= activity.currentSlot) usualRentedByNow += activity.usual.rented[i]!;
      }
      reply.header('cache-control', ctx.dataCacheControl);
      return {
        system: ctx.systemId,
        timezone: ctx.timezone,
        timeSec: snap.timeSec,
        activity,
        totals: { rentedToday, returnedToday, usualRentedByNow: Math.round(usualRentedByNow) },
        states: countByState(snap.views),
        stations: snap.views.length,
      };
    },
  );

  app.get(
    '/stats',
    {
      schema: {
        summary: 'Locked stations over the last days, longest locks, feed health',
        tags: ['system'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { days: { type: 'integer', minimum: 1, maximum: 30, default: 7 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              timeSec: { type: 'integer' },
              series: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    timeSec: { type: 'integer' },
                    locked: { type: 'integer' },
                    partial: { type: 'integer' },
                  },
                },
              },
              longestLocks: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    code: { type: 'string' },
                    name: { type: ['string', 'null'] },
                    fromSec: { type: 'integer' },
                    toSec: { type: ['integer', 'null'] },
                    durationSec: { type: 'integer' },
                    ongoing: { type: 'boolean' },
                  },
                },
              },
              health: { $ref: 'FeedHealth#' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req, base);
      const { days } = req.query as { days: number };
      const snap = await ctx.snapshots.current();
      const [stats, health] = await Promise.all([
        lockStatistics(ctx.store, ctx.systemId, snap, days),
        ctx.store.feedHealth(ctx.systemId),
      ]);
      reply.header('cache-control', ctx.dataCacheControl);
      return { timeSec: snap.timeSec, ...stats, health };
    },
  );

  app.get(
    '/config',
    {
      schema: {
        summary: 'Settings the web app needs (system, time zone, map tiles)',
        tags: ['system'],
        querystring: noQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              systemId: { type: 'string' },
              name: { type: 'string' },
              timezone: { type: 'string' },
              language: { type: 'string' },
              pollIntervalSec: { type: 'integer' },
              tileUrl: { type: 'string' },
              tileAttribution: { type: 'string' },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req, base);
      const systems = await ctx.store.listSystems();
      const name = systems.find((s) => s.id === ctx.systemId)?.name ?? ctx.systemId;
      reply.header('cache-control', 'public, max-age=60');
      return {
        systemId: ctx.systemId,
        name,
        timezone: ctx.timezone,
        language: ctx.language,
        pollIntervalSec: ctx.pollIntervalSec,
        tileUrl: ctx.tileUrl,
        tileAttribution: ctx.tileAttribution,
      };
    },
  );
}

const systemItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    feedUrl: { type: 'string' },
    timezone: { type: 'string' },
    watched: { type: 'boolean', description: 'The default system, also served at the unprefixed routes' },
    health: { $ref: 'FeedHealth#' },
    staleSec: { type: ['integer', 'null'], description: 'Seconds since the last document' },
  },
} as const;

async function describeSystem(systems: SystemContexts, s: SystemRecord): Promise<Record<string, unknown>> {
  const health = await systems.base.store.feedHealth(s.id);
  const last = health?.lastDocumentSec ?? null;
  return {
    ...s,
    watched: s.id === systems.base.systemId,
    health,
    staleSec: last === null ? null : Math.max(0, Math.floor(Date.now() / 1000) - last),
  };
}

/** GET /systems (every system of the store) and /systems/:system (one): not per system themselves. */
export function systemListRoutes(app: FastifyInstance, systems: SystemContexts): void {
  app.get(
    '/systems',
    {
      schema: {
        summary: 'The systems in the store and their feed health (each served at /api/v1/systems/{id}/…)',
        tags: ['system'],
        querystring: noQuery,
        response: {
          200: { type: 'object', properties: { systems: { type: 'array', items: systemItem } } },
          ...errorResponses,
        },
      },
    },
    async (_req, reply) => {
      const out = await Promise.all((await systems.systems()).map((s) => describeSystem(systems, s)));
      reply.header('cache-control', systems.base.dataCacheControl);
      return { systems: out };
    },
  );

  app.get<{ Params: { system: string } }>(
    '/systems/:system',
    {
      schema: {
        summary: 'One system and its feed health',
        tags: ['system'],
        params: { type: 'object', required: ['system'], properties: { system: { type: 'string' } } },
        querystring: noQuery,
        response: { 200: systemItem, ...errorResponses },
      },
    },
    async (req, reply) => {
      const record = (await systems.systems()).find((s) => s.id === req.params.system);
      if (!record)
        throw new ApiError('system_not_found', `No system has the id "${req.params.system}".`, 'system');
      reply.header('cache-control', systems.base.dataCacheControl);
      return describeSystem(systems, record);
    },
  );
}
