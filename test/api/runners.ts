/**
 * The two ways the contract suite reaches the API: real HTTP to the Fastify server, or the Lambda
 * handler fed API Gateway HTTP API (payload 2.0) events. Both give back what a client receives:
 * status, headers, the body as on the wire, and the decoded body.
 */
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { LiveBus } from '../../src/api/index.js';
import { DEFAULT_TILE_URL } from '../../src/api/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createApiLambda } from '../../src/serverless/index.js';
import type { Store } from '../../src/storage/index.js';
import { httpApiEvent, lambdaContext, resultBody } from '../serverless/aws-events.js';
import { SYSTEM, TIMEZONE } from './fixture.js';
import { startApi } from './helpers.js';

export interface ApiResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** The body as sent (compressed when Content-Encoding says so). */
  wire: Buffer;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface ApiTarget {
  request(path: string, init?: RequestInit): Promise<ApiResponse>;
  live: LiveBus;
  /** Base URL when the target is a real server. */
  base?: string;
  close(): Promise<void>;
}

export interface ApiRunner {
  name: string;
  start(store: Store): Promise<ApiTarget>;
}

function response(status: number, headers: Map<string, string>, wire: Buffer): ApiResponse {
  const decoded = (): string => {
    const encoding = headers.get('content-encoding');
    if (encoding === 'br') return brotliDecompressSync(wire).toString('utf8');
    if (encoding === 'gzip') return gunzipSync(wire).toString('utf8');
    return wire.toString('utf8');
  };
  return {
    status,
    headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
    wire,
    text: () => Promise.resolve(decoded()),
    json: () => Promise.resolve(JSON.parse(decoded()) as unknown),
  };
}

/** The Fastify server on 127.0.0.1, reached with node:http (no automatic decompression). */
export const httpRunner: ApiRunner = {
  name: 'Fastify server over HTTP',
  async start(store) {
    const running = await startApi(store);
    const url = new URL(running.base);
    return {
      live: running.live,
      base: running.base,
      close: () => running.app.close(),
      request: (path, init = {}) =>
        new Promise((resolve, reject) => {
          const req = http.request(
            { host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers: init.headers },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                const headers = new Map<string, string>();
                for (const [k, v] of Object.entries(res.headers))
                  if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
                resolve(response(res.statusCode ?? 0, headers, Buffer.concat(chunks)));
              });
            },
          );
          req.on('error', reject);
          req.end(init.body);
        }),
    };
  },
};

/** The Lambda handler, invoked with API Gateway HTTP API events; results turned back into responses. */
export const lambdaRunner: ApiRunner = {
  name: 'Lambda handler behind API Gateway HTTP API (payload 2.0)',
  async start(store) {
    const lambda = await createApiLambda({
      store,
      system: SYSTEM,
      timeZone: TIMEZONE,
      pollIntervalSec: 60,
      logger: silentLogger,
      tileUrl: DEFAULT_TILE_URL,
      language: 'fr',
    });
    return {
      live: lambda.live,
      close: () => lambda.app.close(),
      async request(path, init = {}) {
        const event = httpApiEvent(path, init);
        const result = await lambda.handler(event, lambdaContext('dockwatch-api'));
        const headers = new Map<string, string>();
        for (const [k, v] of Object.entries(result.headers ?? {})) headers.set(k.toLowerCase(), String(v));
        if (result.cookies?.length) headers.set('set-cookie', result.cookies.join(', '));
        return response(result.statusCode ?? 200, headers, resultBody(result));
      },
    };
  },
};
