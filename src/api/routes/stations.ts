/** GET /stations, /stations.geojson, /stations/:code — served from the precomputed snapshot. */
import type { FastifyInstance } from 'fastify';
import { contextOf, type ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { sendPrecomputed } from '../precomputed.js';
import { errorResponses, stationCodeParam } from '../schemas.js';

const HISTORY_LIMIT = 50;

export function stationRoutes(app: FastifyInstance, base: ApiContext): void {
  const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

  app.get(
    '/stations',
    {
      compress: false, // already compressed, once per snapshot
      schema: {
        summary: 'Every station with its counts and state, as columns (one array per property)',
        tags: ['stations'],
        querystring: noQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              system: { type: 'string' },
              timeSec: { type: 'integer', description: 'Document time the data describes' },
              version: { type: 'integer' },
              count: { type: 'integer' },
              counts: { $ref: 'StateCounts#' },
              stations: { $ref: 'StationColumns#' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req, base);
      const snap = await ctx.snapshots.current();
      return sendPrecomputed(req, reply, snap.stations, ctx.dataCacheControl);
    },
  );

  app.get(
    '/stations.geojson',
    {
      compress: false,
      schema: {
        summary: 'Every station as a GeoJSON FeatureCollection (properties as in /stations)',
        tags: ['stations'],
        querystring: noQuery,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req, base);
      const snap = await ctx.snapshots.current();
      return sendPrecomputed(req, reply, await ctx.snapshots.geojson(snap), ctx.dataCacheControl);
    },
  );

  app.get<{ Params: { code: string } }>(
    '/stations/:code',
    {
      schema: {
        summary: 'One station, its state history and today’s activity beside the usual',
        tags: ['stations'],
        params: { type: 'object', required: ['code'], properties: { code: stationCodeParam } },
        querystring: noQuery,
        response: {
          200: {
            type: 'object',
            required: ['station', 'history', 'activity'],
            properties: {
              timeSec: { type: 'integer' },
              station: { $ref: 'Station#' },
              history: { type: 'array', items: { $ref: 'StateChange#' } },
              activity: { $ref: 'Activity#' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req, base);
      const snap = await ctx.snapshots.current();
      const station = snap.byCode.get(req.params.code) ?? snap.byId.get(req.params.code);
      if (!station)
        throw new ApiError('station_not_found', `No station has the code "${req.params.code}".`, 'code');
      const [changes, activity] = await Promise.all([
        ctx.store.listStateChanges({ system: ctx.systemId, stationId: station.id, limit: HISTORY_LIMIT }),
        ctx.activity.station(station.id, snap.timeSec),
      ]);
      const history = changes.map((c) => ({ ...c, code: station.code, name: station.name }));
      reply.header('cache-control', ctx.dataCacheControl);
      return { timeSec: snap.timeSec, station, history, activity };
    },
  );
}
