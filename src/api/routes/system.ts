/** GET /activity, /systems, /stats, /config — system-level views. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { countByState } from '../snapshot.js';
import { errorResponses } from '../schemas.js';
import { lockStatistics } from '../stats.js';

const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
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
    async (_req, reply) => {
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
    '/systems',
    {
      schema: {
        summary: 'The watched system(s) and their feed health',
        tags: ['system'],
        querystring: noQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              systems: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    feedUrl: { type: 'string' },
                    timezone: { type: 'string' },
                    watched: { type: 'boolean' },
                    health: { $ref: 'FeedHealth#' },
                    staleSec: { type: ['integer', 'null'], description: 'Seconds since the last document' },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (_req, reply) => {
      const systems = await ctx.store.listSystems();
      const nowSec = Math.floor(Date.now() / 1000);
      const out = await Promise.all(
        systems.map(async (s) => {
          const health = await ctx.store.feedHealth(s.id);
          const last = health?.lastDocumentSec ?? null;
          return {
            ...s,
            watched: s.id === ctx.systemId,
            health,
            staleSec: last === null ? null : Math.max(0, nowSec - last),
          };
        }),
      );
      reply.header('cache-control', ctx.dataCacheControl);
      return { systems: out };
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
    async (_req, reply) => {
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
