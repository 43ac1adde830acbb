/**
 * Webhook subscriptions and their delivery log (admin token required): POST/GET/DELETE
 * /webhooks, GET /webhooks/{id}/deliveries, POST /webhooks/{id}/deliveries/{delivery}/retry.
 * Without DOCKWATCH_ADMIN_TOKEN these routes answer 403: nobody can manage webhooks.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeliveryRecord, NotifyService, Webhook } from '../../notify/index.js';
import { NotifyInputError, webhookView } from '../../notify/index.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { errorResponses, STATION_STATES, stationCodeParam } from '../schemas.js';
import { decodeCursor, encodeCursor } from './state-changes.js';

const adminErrors = {
  ...errorResponses,
  401: { $ref: 'ApiError#' },
  403: { $ref: 'ApiError#' },
  409: { $ref: 'ApiError#' },
} as const;

const nullableStrings = { type: ['array', 'null'], items: { type: 'string' } } as const;
const areaSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['lat', 'lon', 'radiusM'],
  properties: {
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lon: { type: 'number', minimum: -180, maximum: 180 },
    radiusM: { type: 'number', exclusiveMinimum: 0, maximum: 100_000, description: 'Radius in metres' },
  },
} as const;

const webhookOut = {
  type: 'object',
  required: ['id', 'url', 'description', 'stations', 'area', 'states', 'active', 'createdSec'],
  properties: {
    id: { type: 'integer' },
    url: { type: 'string' },
    description: { type: ['string', 'null'] },
    stations: { ...nullableStrings, description: 'Station codes; null = every station' },
    area: { ...areaSchema, type: ['object', 'null'] },
    states: { ...nullableStrings, description: 'States of interest; null = every announced change' },
    active: { type: 'boolean' },
    createdSec: { type: 'integer' },
    secret: { type: 'string', description: 'HMAC-SHA256 key: only in the answer to the creation' },
  },
} as const;

const deliveryOut = {
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'Also sent as the Dockwatch-Delivery header' },
    status: { type: 'string', enum: ['pending', 'delivered', 'dead', 'cancelled'] },
    attempts: { type: 'integer' },
    nextAttemptSec: { type: ['number', 'null'] },
    lastStatus: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
    createdSec: { type: 'number' },
    finishedSec: { type: ['number', 'null'] },
    event: { type: 'object', additionalProperties: true, description: 'The JSON body sent' },
    attemptLog: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          atSec: { type: 'number' },
          durationMs: { type: 'integer' },
          httpStatus: { type: ['integer', 'null'] },
          error: { type: ['string', 'null'] },
          outcome: { type: 'string' },
        },
      },
    },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: 2 ** 53 - 1 } },
} as const;

function view(w: Webhook, withSecret = false): Record<string, unknown> {
  const v = webhookView(w);
  return {
    id: v.id,
    url: v.url,
    description: v.description,
    stations: v.stationCodes,
    area: v.area,
    states: v.states,
    active: v.active,
    createdSec: Math.floor(v.createdMs / 1000),
    ...(withSecret ? { secret: w.secret } : {}),
  };
}

function deliveryView(d: DeliveryRecord): Record<string, unknown> {
  return {
    id: d.id,
    status: d.status,
    attempts: d.attempts,
    nextAttemptSec: d.status === 'pending' ? d.nextAttemptMs / 1000 : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdSec: d.createdMs / 1000,
    finishedSec: d.finishedMs === null ? null : d.finishedMs / 1000,
    event: JSON.parse(d.announcement.payload) as unknown,
    attemptLog: d.attemptLog.map((a) => ({
      attempt: a.attempt,
      atSec: a.atMs / 1000,
      durationMs: a.durationMs,
      httpStatus: a.httpStatus,
      error: a.error,
      outcome: a.outcome,
    })),
  };
}

/** onRequest hook: the admin token, or a clear refusal. */
function requireAdmin(notify: NotifyService) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const check = notify.checkAdmin(req.headers.authorization);
    if (check === 'ok') return;
    if (check === 'disabled') {
      throw new ApiError(
        'forbidden',
        'Webhook management is disabled on this server: start dockwatch with DOCKWATCH_ADMIN_TOKEN set to enable it.',
      );
    }
    reply.header('www-authenticate', 'Bearer realm="dockwatch"');
    throw new ApiError(
      'unauthorized',
      check === 'missing'
        ? 'Send the admin token as "Authorization: Bearer <token>".'
        : 'The admin token is wrong.',
    );
  };
}

interface CreateBody {
  url: string;
  description?: string;
  stations?: string[];
  area?: { lat: number; lon: number; radiusM: number };
  states?: (typeof STATION_STATES)[number][];
}

export function subscriptionRoutes(app: FastifyInstance, ctx: ApiContext, notify: NotifyService): void {
  const onRequest = requireAdmin(notify);
  const tags = ['webhooks'];

  app.post<{ Body: CreateBody }>(
    '/webhooks',
    {
      onRequest,
      schema: {
        summary: 'Subscribe a URL to announced state changes',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: {
              type: 'string',
              minLength: 1,
              maxLength: 2048,
              description: 'http(s) URL receiving the POSTs',
            },
            description: { type: 'string', maxLength: 200 },
            stations: {
              type: 'array',
              items: stationCodeParam,
              minItems: 1,
              maxItems: 500,
              uniqueItems: true,
            },
            area: areaSchema,
            states: { type: 'array', items: { type: 'string', enum: [...STATION_STATES] }, minItems: 1 },
          },
        },
        response: { 201: webhookOut, ...adminErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      let stations: { ids: string[]; codes: string[] } | null = null;
      if (b.stations !== undefined) {
        const snap = await ctx.snapshots.current();
        stations = { ids: [], codes: [] };
        for (const code of b.stations) {
          const v = snap.byCode.get(code) ?? snap.byId.get(code);
          if (!v) throw new ApiError('station_not_found', `No station has the code "${code}".`, 'stations');
          stations.ids.push(v.id);
          stations.codes.push(v.code);
        }
      }
      try {
        const w = await notify.createWebhook({
          url: b.url,
          description: b.description ?? null,
          stations,
          area: b.area ?? null,
          states: b.states ?? null,
        });
        return reply.code(201).header('cache-control', 'no-store').send(view(w, true));
      } catch (err) {
        if (err instanceof NotifyInputError) throw new ApiError('invalid_parameter', err.message, err.param);
        throw err;
      }
    },
  );

  app.get(
    '/webhooks',
    {
      onRequest,
      schema: {
        summary: 'Webhook subscriptions',
        tags,
        response: {
          200: { type: 'object', properties: { webhooks: { type: 'array', items: webhookOut } } },
          ...adminErrors,
        },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return { webhooks: (await notify.listWebhooks()).map((w) => view(w)) };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/webhooks/:id',
    {
      onRequest,
      schema: {
        summary: 'One webhook subscription',
        tags,
        params: idParams,
        response: { 200: webhookOut, ...adminErrors },
      },
    },
    async (req, reply) => {
      const w = await notify.getWebhook(req.params.id);
      if (!w) throw new ApiError('not_found', `No webhook has the id ${req.params.id}.`, 'id');
      reply.header('cache-control', 'no-store');
      return view(w);
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/webhooks/:id',
    {
      onRequest,
      schema: {
        summary: 'Unsubscribe (pending deliveries are cancelled; the log stays)',
        tags,
        params: idParams,
        response: adminErrors,
      },
    },
    async (req, reply) => {
      if (!(await notify.deleteWebhook(req.params.id))) {
        throw new ApiError('not_found', `No webhook has the id ${req.params.id}.`, 'id');
      }
      return reply.code(204).send();
    },
  );

  app.get<{
    Params: { id: number };
    Querystring: { status?: 'pending' | 'delivered' | 'dead' | 'cancelled'; limit: number; cursor?: string };
  }>(
    '/webhooks/:id/deliveries',
    {
      onRequest,
      schema: {
        summary: 'Delivery log of a webhook (newest first), with every attempt',
        tags,
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['pending', 'delivered', 'dead', 'cancelled'] },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              deliveries: { type: 'array', items: deliveryOut },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          ...adminErrors,
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const beforeId = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const rows = await notify.deliveries(req.params.id, {
        ...(q.status ? { status: q.status } : {}),
        ...(beforeId !== undefined ? { beforeId } : {}),
        limit: q.limit + 1,
      });
      if (rows === null) throw new ApiError('not_found', `No webhook has the id ${req.params.id}.`, 'id');
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      reply.header('cache-control', 'no-store');
      return {
        deliveries: page.map(deliveryView),
        nextCursor: rows.length > q.limit && last ? encodeCursor(last.id) : null,
      };
    },
  );

  app.post<{ Params: { id: number; delivery: number } }>(
    '/webhooks/:id/deliveries/:delivery/retry',
    {
      onRequest,
      schema: {
        summary: 'Send a dead-lettered delivery again (attempts start over)',
        tags,
        params: {
          type: 'object',
          required: ['id', 'delivery'],
          properties: { id: idParams.properties.id, delivery: idParams.properties.id },
        },
        response: { 202: { type: 'object', properties: { status: { type: 'string' } } }, ...adminErrors },
      },
    },
    async (req, reply) => {
      const result = await notify.redeliver(req.params.id, req.params.delivery);
      if (result === 'not_found')
        throw new ApiError('not_found', 'No such delivery for this webhook.', 'delivery');
      if (result === 'not_dead')
        throw new ApiError('conflict', 'Only a dead-lettered delivery can be retried.', 'delivery');
      return reply.code(202).send({ status: 'pending' });
    },
  );
}
