/**
 * Web Push for favourites (no account, no admin): the browser fetches the VAPID public key,
 * subscribes with its push service, and posts the subscription with its favourite stations.
 * The endpoint URL is the subscription's only credential (push services make it unguessable),
 * so knowing it is what lets a browser replace or remove its own subscription.
 *
 * The two routes that write are public, so they are rate limited per client IP
 * (@fastify/rate-limit, in their own plugin scope: no other route pays for it) and the number of
 * subscriptions is capped (NotifyCapacityError → 409 subscriptions_full).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { NotifyService } from '../../notify/index.js';
import { NotifyCapacityError, NotifyInputError, notifyMetrics } from '../../notify/index.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { errorResponses, stationCodeParam } from '../schemas.js';

const MAX_STATIONS = 100;

interface SubscribeBody {
  subscription: { endpoint: string; expirationTime?: number | null; keys: { p256dh: string; auth: string } };
  stations: string[];
  lang: 'fr' | 'en';
}

const endpointSchema = { type: 'string', minLength: 8, maxLength: 2048 } as const;

const writeErrors = {
  ...errorResponses,
  409: { $ref: 'ApiError#' },
  429: { $ref: 'ApiError#' },
} as const;

export function pushRoutes(app: FastifyInstance, ctx: ApiContext, notify: NotifyService): void {
  const tags = ['push'];

  app.get(
    '/push/key',
    {
      schema: {
        summary: 'VAPID public key (applicationServerKey for PushManager.subscribe)',
        tags,
        response: { 200: { type: 'object', properties: { publicKey: { type: 'string' } } } },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=3600');
      return { publicKey: notify.vapidPublicKey };
    },
  );

  // An encapsulated scope: the rate limiter's hooks exist only on the routes declared in it.
  void app.register(async (scope) => {
    await scope.register(rateLimit, {
      global: false,
      onExceeded: () => notifyMetrics.pushRefused.inc({ reason: 'rate_limited' }),
      // Thrown like any handler error: the API's error handler writes the JSON body.
      errorResponseBuilder: (_req, context) =>
        new ApiError('rate_limited', `Too many requests from this address: retry in ${context.after}.`),
    });
    publicWrites(scope, ctx, notify);
  });
}

/** POST and DELETE /push/subscriptions, each limited to `max` requests per window and client IP. */
function publicWrites(app: FastifyInstance, ctx: ApiContext, notify: NotifyService): void {
  const tags = ['push'];
  const config = { rateLimit: { max: notify.pushRateLimit.max, timeWindow: notify.pushRateLimit.windowMs } };

  app.post<{ Body: SubscribeBody }>(
    '/push/subscriptions',
    {
      config,
      schema: {
        summary: 'Save (or replace) this browser’s push subscription and its favourite stations',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['subscription', 'stations', 'lang'],
          properties: {
            subscription: {
              type: 'object',
              required: ['endpoint', 'keys'],
              properties: {
                endpoint: endpointSchema,
                expirationTime: { type: ['number', 'null'] },
                keys: {
                  type: 'object',
                  required: ['p256dh', 'auth'],
                  properties: {
                    p256dh: { type: 'string', minLength: 1, maxLength: 200 },
                    auth: { type: 'string', minLength: 1, maxLength: 100 },
                  },
                },
              },
            },
            stations: { type: 'array', items: stationCodeParam, maxItems: MAX_STATIONS },
            lang: { type: 'string', enum: ['fr', 'en'] },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              stations: { type: 'array', items: { type: 'string' }, description: 'Codes followed' },
              unknown: {
                type: 'array',
                items: { type: 'string' },
                description: 'Codes of no current station',
              },
            },
          },
          ...writeErrors,
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const snap = await ctx.snapshots.current();
      const ids: string[] = [];
      const codes: string[] = [];
      const unknown: string[] = [];
      for (const code of new Set(b.stations)) {
        const v = snap.byCode.get(code) ?? snap.byId.get(code);
        if (v) {
          ids.push(v.id);
          codes.push(v.code);
        } else unknown.push(code); // a favourite of a removed station: kept in the browser, ignored here
      }
      try {
        await notify.savePushSubscription({
          endpoint: b.subscription.endpoint,
          p256dh: b.subscription.keys.p256dh,
          auth: b.subscription.keys.auth,
          stations: { ids, codes },
          lang: b.lang,
        });
      } catch (err) {
        if (err instanceof NotifyInputError) {
          throw new ApiError('invalid_parameter', err.message, `subscription.${err.param}`);
        }
        if (err instanceof NotifyCapacityError) {
          notifyMetrics.pushRefused.inc({ reason: 'full' });
          req.log.warn({ limit: err.limit }, 'push: subscription refused, the cap is reached');
          throw new ApiError('subscriptions_full', err.message);
        }
        throw err;
      }
      return reply.code(201).header('cache-control', 'no-store').send({ stations: codes, unknown });
    },
  );

  app.delete<{ Body: { endpoint: string } }>(
    '/push/subscriptions',
    {
      config,
      schema: {
        summary: 'Remove this browser’s push subscription',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['endpoint'],
          properties: { endpoint: endpointSchema },
        },
        response: writeErrors,
      },
    },
    async (req, reply) => {
      // Idempotent: removing a subscription already gone is not an error.
      await notify.removePushSubscription(req.body.endpoint);
      return reply.code(204).send();
    },
  );
}
