/**
 * The API function: API Gateway HTTP API (payload 2.0) → the same Fastify app as `dockwatch
 * serve`, through @fastify/aws-lambda (Fastify's `inject`, no socket). One contract, one code
 * path: test/api runs the same suite against the HTTP server and this handler.
 */
import awsLambdaFastify from '@fastify/aws-lambda';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { FastifyInstance } from 'fastify';
import { createApiServer, createLiveBus, type LiveBus } from '../api/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../storage/index.js';
import { isLiveRequest, liveFallback } from './live-fallback.js';

export interface ApiHandlerOptions {
  store: Store;
  /** System served at /api/v1/…; every system of the store is also at /api/v1/systems/:id/…. */
  system: string;
  /** Used when the store does not know the system yet (the fetch function registers it). */
  timeZone: string;
  pollIntervalSec: number;
  logger: Logger;
  tileUrl: string;
  language: string;
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApiLambda {
  handler: ApiHandler;
  app: FastifyInstance;
  live: LiveBus;
}

/** Bodies that are bytes whatever their encoding (exports); compressed bodies are detected apart. */
const BINARY_TYPES = ['application/vnd.apache.parquet', 'application/octet-stream', 'image/png'];

export async function createApiLambda(opts: ApiHandlerOptions): Promise<ApiLambda> {
  const { store } = opts;
  const record = (await store.listSystems()).find((s) => s.id === opts.system);
  const timezone = record?.timezone ?? opts.timeZone;
  const live = createLiveBus();
  const app = await createApiServer({
    store,
    systemId: opts.system,
    timezone,
    pollIntervalSec: opts.pollIntervalSec,
    live,
    logger: opts.logger,
    tileUrl: opts.tileUrl,
    language: opts.language,
    // No pipeline in this process, as under `dockwatch serve`: a warm container re-reads the
    // store's last document time (at most once a second) and rebuilds its picture when it moved.
    refreshFromStore: true,
  });
  const proxy = awsLambdaFastify<APIGatewayProxyEventV2>(app, {
    binaryMimeTypes: BINARY_TYPES,
    // Lambda events carry no need for the request decoration (and the event can be large).
    decorateRequest: false,
    // HTTP APIs join repeated parameters with commas; a comma inside one value must stay a comma.
    parseCommaSeparatedQueryParams: false,
  });
  await app.ready();
  await prime(app);
  const handler: ApiHandler = async (event, context) => {
    if (isLiveRequest(event)) return liveFallback(live, opts.pollIntervalSec);
    return proxy(event, context);
  };
  return { handler, app, live };
}

/**
 * Builds the container's first picture before the first visitor: the app warms a snapshot as it
 * starts, then its first store refresh publishes the stored document time, which makes that
 * picture outdated at once. Two internal requests take both steps now, so the first visitor gets
 * the same ETag as the next ones (a 304 for a revalidating CDN).
 */
async function prime(app: FastifyInstance): Promise<void> {
  for (let i = 0; i < 2; i++) await app.inject({ method: 'GET', url: '/api/v1/stations' });
}
