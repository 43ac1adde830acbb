/**
 * createApiServer: the Fastify app serving the JSON API under /api/v1, the OpenAPI document and
 * its UI at /docs, operations endpoints, and the built web app (web/dist) with a SPA fallback.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import etag from '@fastify/etag';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/index.js';
import type { NotifyService } from '../notify/index.js';
import { GBFS_PREFIX, type PublishOptions } from '../publish/index.js';
import type { Store } from '../storage/index.js';
import { ActivityService } from './activity.js';
import { bindContext, dataCacheControl, type ApiContext } from './context.js';
import { ApiError, errorHandler, sendError, toApiError } from './errors.js';
import { HotPath } from './hot-path.js';
import { httpLatencyHistogram } from './http-metrics.js';
import type { LiveBus } from './live.js';
import { exportRoutes } from './routes/exports.js';
import { feedRoutes } from './routes/feeds.js';
import { gbfsRoutes } from './routes/gbfs.js';
import { healthRoutes, readinessSchema } from './routes/health.js';
import { liveRoutes } from './routes/live.js';
import { pushRoutes } from './routes/push.js';
import { stateChangeRoutes } from './routes/state-changes.js';
import { stationRoutes } from './routes/stations.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { systemListRoutes, systemRoutes } from './routes/system.js';
import { sharedSchemas } from './schemas.js';
import { CORS_METHODS, CORS_ORIGIN, helmetOptions, staticResponseHeaders } from './security.js';
import type { PrecomputedBody } from './precomputed.js';
import { SnapshotCache, type Snapshot } from './snapshot.js';
import { SystemContexts } from './systems.js';

interface JsonObjectSchema {
  properties?: Record<string, unknown>;
  required?: string[];
}

const systemParam = { type: 'string', description: 'A system id of GET /api/v1/systems' } as const;

export const DEFAULT_TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
export const DEFAULT_TILE_ATTRIBUTION = '© OpenStreetMap contributors';

export interface ApiServerOptions {
  store: Store;
  systemId: string;
  timezone: string;
  pollIntervalSec: number;
  live: LiveBus;
  logger: Logger;
  /** Folder of the built web app (web/dist); the API alone when absent. */
  webRoot?: string;
  /** Map tiles ({z}/{x}/{y}, optional {s}); '' = no tiles (plain background). */
  tileUrl?: string;
  tileAttribution?: string;
  /** Default language of the web app before the browser's preference is known. */
  language?: string;
  /** Webhook and Web Push routes (src/notify); absent = not served. */
  notify?: NotifyService;
  /** Corrected GBFS, Atom feeds and exports (public URL, contact e-mail, export limits). */
  publish?: PublishOptions;
  /**
   * No pipeline publishes to `live` in this process (`serve`): the default system is refreshed
   * from the store like the others (see SystemContexts). Default false.
   */
  refreshFromStore?: boolean;
}

/** Origins a tile URL template loads images from, for the Content-Security-Policy. */
export function tileOrigins(tileUrl: string): string[] {
  if (!tileUrl) return [];
  try {
    const u = new URL(tileUrl.replace(/\{s\}/g, 'a').replace(/\{[^}]*\}/g, '0'));
    const host = tileUrl.includes('{s}.') ? u.host.replace(/^a\./, '*.') : u.host;
    return [`${u.protocol}//${host}`];
  } catch {
    return [];
  }
}

export async function createApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const tileUrl = opts.tileUrl ?? DEFAULT_TILE_URL;
  const security = helmetOptions(tileOrigins(tileUrl));
  const latency = httpLatencyHistogram();
  const cacheControl = dataCacheControl(opts.pollIntervalSec);
  const hot = new HotPath({ staticHeaders: staticResponseHeaders(security), cacheControl, latency });
  const app = Fastify({
    // GET /api/v1/stations is answered before Fastify's router and hooks (see hot-path.ts).
    serverFactory: (handler, options) => hot.createServer(handler, options),
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- pino Logger vs FastifyBaseLogger generics
    loggerInstance: opts.logger as FastifyBaseLogger,
    // One log line per request would cost more than serving /stations itself; latency goes to /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
    // Malformed URLs (bad percent-encoding…) get the same JSON error as everything else.
    frameworkErrors: (err, _req, reply) => {
      void sendError(reply, toApiError(Object.assign(err, { statusCode: 400 })));
    },
  });
  const snapshots = new SnapshotCache(opts);
  const ctx: ApiContext = {
    ...opts,
    snapshots,
    activity: new ActivityService(opts.store, opts.systemId, opts.timezone),
    tileUrl,
    tileAttribution: opts.tileAttribution ?? DEFAULT_TILE_ATTRIBUTION,
    language: opts.language ?? 'fr',
    dataCacheControl: cacheControl,
  };
  const systems = new SystemContexts(ctx, { refreshDefault: opts.refreshFromStore ?? false });
  app.addHook('onClose', (_instance, done) => {
    snapshots.close();
    systems.close();
    done();
  });
  // The default system's lists, straight from the snapshot once it is built and current. `serve`
  // also starts the throttled store refresh the /api/v1 scope's hook would (without waiting for it).
  const hotSource = (pick: (snap: Snapshot) => PrecomputedBody | null) => () => {
    if (opts.refreshFromStore) void systems.refresh(ctx.systemId);
    const snap = snapshots.ready();
    return snap === null ? null : pick(snap);
  };
  hot.add(
    '/api/v1/stations',
    hotSource((snap) => snap.stations),
  );
  hot.add(
    '/api/v1/stations.geojson',
    hotSource((snap) => snap.geojsonBody),
  );
  app.addHook('preClose', (done) => {
    hot.closing = true;
    done();
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    latency.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler(errorHandler);
  for (const s of [...sharedSchemas, readinessSchema]) app.addSchema(s);

  await app.register(helmet, security);
  await app.register(cors, { origin: CORS_ORIGIN, methods: CORS_METHODS });
  await app.register(etag, { weak: true });
  await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip'] });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'dockwatch API',
        version: '1.0.0',
        description: 'Bike-share stations and their detected state (ok, locked, …). Times are POSIX seconds.',
      },
      tags: [
        { name: 'stations' },
        { name: 'state changes' },
        { name: 'system' },
        { name: 'live' },
        { name: 'operations' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  // Routes of one system: the default system's at /api/v1/…, any system's at /api/v1/systems/:system/….
  const perSystemRoutes = (api: FastifyInstance): void => {
    stationRoutes(api, ctx);
    stateChangeRoutes(api, ctx);
    systemRoutes(api, ctx);
    liveRoutes(api, ctx);
    exportRoutes(api, ctx, opts.publish);
  };
  // A scope under …/systems/:system binds each request to that system's context (or 404s first).
  const bindSystem = (api: FastifyInstance): void => {
    // Routes that declare their own path parameters get {system} too (else OpenAPI omits it).
    api.addHook('onRoute', (route) => {
      const params = route.schema?.params as JsonObjectSchema | undefined;
      if (params?.properties === undefined || 'system' in params.properties) return;
      route.schema = {
        ...route.schema,
        params: {
          ...params,
          required: ['system', ...(params.required ?? [])],
          properties: { system: systemParam, ...params.properties },
        },
      };
    });
    api.addHook('onRequest', async (req) => {
      const id = (req.params as { system?: string }).system ?? '';
      const sys = await systems.get(id);
      if (sys === null) throw new ApiError('system_not_found', `No system has the id "${id}".`, 'system');
      bindContext(req, sys);
    });
  };
  await app.register(
    (api, _opts, done) => {
      if (opts.refreshFromStore) api.addHook('onRequest', () => systems.refresh(ctx.systemId));
      perSystemRoutes(api);
      systemListRoutes(api, systems);
      if (opts.notify) {
        // Bound to the watched system (see docs/notifications.md): not served per system.
        subscriptionRoutes(api, ctx, opts.notify);
        pushRoutes(api, ctx, opts.notify);
      }
      done();
    },
    { prefix: '/api/v1' },
  );
  await app.register(
    (api, _opts, done) => {
      bindSystem(api);
      perSystemRoutes(api);
      done();
    },
    { prefix: '/api/v1/systems/:system' },
  );
  healthRoutes(app, ctx, systems);
  // The corrected GBFS and the Atom feeds: the default system's at /gbfs/… and /feeds/… (as
  // before), any system's at /gbfs/systems/:system/… and /feeds/systems/:system/….
  const publishScopes = [
    [GBFS_PREFIX, (api: FastifyInstance) => gbfsRoutes(api, ctx, opts.publish)],
    ['/feeds', (api: FastifyInstance) => feedRoutes(api, ctx, opts.publish)],
  ] as const;
  for (const [prefix, routes] of publishScopes) {
    await app.register(
      (api, _opts, done) => {
        // `serve`: the default system's news are read from the store, as for /api/v1.
        if (opts.refreshFromStore) api.addHook('onRequest', () => systems.refresh(ctx.systemId));
        routes(api);
        done();
      },
      { prefix },
    );
    await app.register(
      (api, _opts, done) => {
        bindSystem(api);
        routes(api);
        done();
      },
      { prefix: `${prefix}/systems/:system` },
    );
  }

  const webRoot =
    opts.webRoot && existsSync(path.join(opts.webRoot, 'index.html')) ? path.resolve(opts.webRoot) : null;
  if (webRoot) {
    await app.register(fastifyStatic, {
      root: webRoot,
      wildcard: false,
      index: false,
      setHeaders: (reply, filePath) => {
        // Vite puts content hashes in asset names: they never change.
        reply.header(
          'cache-control',
          filePath.includes(`${path.sep}assets${path.sep}`)
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
    });
  } else if (opts.webRoot) {
    opts.logger.warn({ webRoot: opts.webRoot }, 'web app not built (no index.html): serving the API only');
  }

  app.setNotFoundHandler((req, reply) => {
    const url = req.url;
    const isPage =
      (req.method === 'GET' || req.method === 'HEAD') &&
      !url.startsWith('/api/') &&
      !url.startsWith('/docs') &&
      !/\.[a-z0-9]{1,5}(\?|$)/i.test(url);
    // Client-side routes (/carte, /station/16107…) all get the app's shell.
    if (webRoot && isPage) return reply.header('cache-control', 'no-cache').sendFile('index.html', webRoot);
    return sendError(
      reply,
      new ApiError('not_found', `No resource at ${req.method} ${url.split('?')[0] ?? ''}.`),
    );
  });

  // Build the first snapshot and the usual-activity days before the first visitor asks.
  app.addHook('onReady', (done) => {
    done();
    void snapshots
      .current()
      .then((snap) => ctx.activity.warm(snap.timeSec))
      .catch((err: unknown) => opts.logger.warn({ err }, 'api: warm-up failed'));
  });
  return app;
}
