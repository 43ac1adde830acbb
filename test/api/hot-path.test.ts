/**
 * The hot path of GET /api/v1/stations (src/api/hot-path.ts) answers before Fastify: it must give
 * exactly what the Fastify route gives (same bytes, same headers), never stale data, and leave
 * everything else (query strings, other methods, bodies not built yet) to Fastify.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, createLiveBus, type LiveBus } from '../../src/api/index.js';
import { httpLatencyHistogram } from '../../src/api/http-metrics.js';
import { HotPath } from '../../src/api/hot-path.js';
import { precompute, type PrecomputedBody } from '../../src/api/precomputed.js';
import { helmetOptions, staticResponseHeaders } from '../../src/api/security.js';
import { stationsFromColumns, type StationColumns } from '../../src/api/station-table.js';
import { silentLogger } from '../../src/log/index.js';
import { registry } from '../../src/metrics/index.js';
import type { StationInfo } from '../../src/feed/model.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import { commitDocument, seedSystem, T0 } from './two-systems.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function rawRequest(
  base: string,
  p: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + p, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Headers that depend on the connection or the clock, not on the resource. */
const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function resourceHeaders(
  h: Record<string, unknown>,
  opts: { dropContentLength?: boolean } = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    const name = k.toLowerCase();
    if (PER_CONNECTION.has(name) || (opts.dropContentLength && name === 'content-length')) continue;
    out[name] = String(v);
  }
  return out;
}

async function requestCount(route: string, status: string): Promise<number> {
  const metric = await registry.getSingleMetric('dockwatch_http_request_seconds')?.get();
  const values = (metric?.values ?? []) as {
    metricName?: string;
    labels: Record<string, unknown>;
    value: number;
  }[];
  return values
    .filter(
      (v) =>
        v.metricName === 'dockwatch_http_request_seconds_count' &&
        v.labels['route'] === route &&
        v.labels['status'] === status,
    )
    .reduce((sum, v) => sum + v.value, 0);
}

describe('GET /api/v1/stations on the hot path, beside the Fastify route', () => {
  let dir: string;
  let store: Store;
  let infos: StationInfo[];
  let live: LiveBus;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dockwatch-hot-'));
    store = openSqliteStore({ path: path.join(dir, 'db.sqlite') });
    await store.migrate();
    infos = await seedSystem(store, 'paris', 'Europe/Paris', 40, 48.85, T0);
    live = createLiveBus();
    app = await createApiServer({
      store,
      systemId: 'paris',
      timezone: 'Europe/Paris',
      pollIntervalSec: 60,
      live,
      logger: silentLogger,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same bytes and headers as the Fastify route, for every encoding, GET and HEAD', async () => {
    // The first request builds the snapshot (through Fastify); the next ones take the hot path.
    expect((await rawRequest(base, '/api/v1/stations')).status).toBe(200);
    for (const method of ['GET', 'HEAD'] as const) {
      for (const accept of ['br', 'gzip', 'gzip, deflate, br', 'br;q=0, gzip', 'identity', '']) {
        const headers: Record<string, string> = accept ? { 'accept-encoding': accept } : {};
        // app.inject runs Fastify's own handler: the route, its hooks and plugins. Brotli 11
        // replaces brotli 5 once, in the background: a pair straddling that swap is asked again.
        const pair = async () => ({
          hot: await rawRequest(base, '/api/v1/stations', headers, method),
          slow: await app.inject({ method, url: '/api/v1/stations', headers }),
        });
        let { hot, slow } = await pair();
        if (hot.headers['content-length'] !== slow.headers['content-length']) ({ hot, slow } = await pair());
        expect(hot.status, `${method} ${accept}`).toBe(200);
        expect(slow.statusCode).toBe(200);
        expect(resourceHeaders(hot.headers), `${method} ${accept}`).toEqual(resourceHeaders(slow.headers));
        expect(hot.body.equals(slow.rawPayload), `${method} ${accept}`).toBe(true);
      }
    }
  });

  it('answers 304 to a matching If-None-Match with the same headers as Fastify', async () => {
    const first = await rawRequest(base, '/api/v1/stations', { 'accept-encoding': 'br' });
    const etag = String(first.headers.etag);
    const hot = await rawRequest(base, '/api/v1/stations', { 'if-none-match': etag });
    const slow = await app.inject({ url: '/api/v1/stations', headers: { 'if-none-match': etag } });
    expect(hot.status).toBe(304);
    expect(slow.statusCode).toBe(304);
    expect(hot.body.length).toBe(0);
    // …which is also how to tell the two apart: this 304 came from the hot path, not Fastify.
    expect(slow.headers['content-length']).toBe('0');
    expect(hot.headers['content-length']).toBeUndefined();
    // Fastify adds `content-length: 0` to its 304; a 304 has no body to measure.
    expect(resourceHeaders(hot.headers, { dropContentLength: true })).toEqual(
      resourceHeaders(slow.headers, { dropContentLength: true }),
    );
    const other = await rawRequest(base, '/api/v1/stations', { 'if-none-match': 'W/"other"' });
    expect(other.status).toBe(200);
  });

  it('never serves data older than the LiveBus version, and counts every answer in /metrics', async () => {
    const before = await rawRequest(base, '/api/v1/stations');
    const count200 = await requestCount('/api/v1/stations', '200');
    await commitDocument(store, 'paris', infos, T0 + 60, (n) => n + 3);
    live.publishSnapshot('paris', T0 + 60);
    // The very next request already sees the new document (it waits for the rebuild).
    const after = await rawRequest(base, '/api/v1/stations');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const body = JSON.parse(after.body.toString()) as { timeSec: number; stations: StationColumns };
    expect(body.timeSec).toBe(T0 + 60);
    const bikesByCode = new Map(infos.map((s, n) => [s.code, n + 1 + 3]));
    const list = stationsFromColumns(body.stations);
    expect(list).toHaveLength(infos.length);
    for (const st of list) expect(st.bikes.mechanical, st.code).toBe(bikesByCode.get(st.code));
    for (let i = 0; i < 5; i++) await rawRequest(base, '/api/v1/stations');
    expect(await requestCount('/api/v1/stations', '200')).toBe(count200 + 6);
  });

  it('leaves query strings, other methods and unknown paths to Fastify (validation, 404, CORS preflight)', async () => {
    const q = await rawRequest(base, '/api/v1/stations?x=1');
    expect(q.status).toBe(400);
    expect(JSON.parse(q.body.toString())).toMatchObject({ code: 'unknown_parameter', param: 'x' });
    const post = await rawRequest(base, '/api/v1/stations', {}, 'POST');
    expect(post.status).toBeGreaterThanOrEqual(400);
    expect(post.status).toBeLessThan(500);
    const pre = await rawRequest(
      base,
      '/api/v1/stations',
      { origin: 'https://example.org', 'access-control-request-method': 'GET' },
      'OPTIONS',
    );
    expect(String(pre.headers['access-control-allow-methods'])).toContain('GET');
    const slash = await rawRequest(base, '/api/v1/stations/');
    expect(slash.status).toBe(400);
    expect(JSON.parse(slash.body.toString())).toMatchObject({ param: 'code' });
  });

  it('serves the GeoJSON once it is built, with the same bytes as Fastify', async () => {
    const first = await rawRequest(base, '/api/v1/stations.geojson', { 'accept-encoding': 'gzip' });
    expect(first.status).toBe(200);
    const hot = await rawRequest(base, '/api/v1/stations.geojson', { 'accept-encoding': 'gzip' });
    const slow = await app.inject({
      url: '/api/v1/stations.geojson',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(resourceHeaders(hot.headers)).toEqual(resourceHeaders(slow.headers));
    expect(hot.body.equals(slow.rawPayload)).toBe(true);
  });
});

describe('HotPath dispatch', () => {
  let server: http.Server;
  let base: string;
  let body: PrecomputedBody | null = null;
  const fallback: string[] = [];

  beforeAll(async () => {
    const hot = new HotPath({
      staticHeaders: staticResponseHeaders(helmetOptions([])),
      cacheControl: 'public, max-age=5',
      latency: httpLatencyHistogram(),
    });
    hot.add('/hot', () => body);
    server = hot.createServer(
      (req, res) => {
        fallback.push(`${req.method} ${req.url}`);
        res.writeHead(299).end();
      },
      { keepAliveTimeout: 5000 },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hands over while the source has no body, then serves it; anything else always goes to the fallback', async () => {
    expect((await rawRequest(base, '/hot')).status).toBe(299);
    body = await precompute({ hello: 'world'.repeat(400) });
    const served = await rawRequest(base, '/hot', { 'accept-encoding': 'gzip' });
    expect(served.status).toBe(200);
    expect(served.headers['content-encoding']).toBe('gzip');
    expect(served.body.equals(body.gzip)).toBe(true);
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.headers['access-control-allow-origin']).toBe('*');
    expect(served.headers['cache-control']).toBe('public, max-age=5');
    expect(served.headers.vary).toBe('Accept-Encoding');
    for (const [p, method] of [
      ['/hot?x=1', 'GET'],
      ['/hot', 'POST'],
      ['/hot', 'OPTIONS'],
      ['/other', 'GET'],
    ] as const)
      expect((await rawRequest(base, p, {}, method)).status).toBe(299);
    expect(fallback).toEqual(['GET /hot', 'GET /hot?x=1', 'POST /hot', 'OPTIONS /hot', 'GET /other']);
  });

  it('follows a body whose brotli bytes are replaced (the quality-11 pass)', async () => {
    const text = JSON.stringify({ words: Array.from({ length: 2000 }, (_, i) => `w${(i * 7919) % 1000}`) });
    body = await precompute(JSON.parse(text));
    const a = await rawRequest(base, '/hot', { 'accept-encoding': 'br' });
    expect(a.body.equals(body.br)).toBe(true);
    // What precompute's background pass does: a smaller encoding of the same bytes, same ETag.
    const best = brotliCompressSync(body.identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    expect(best.equals(body.br)).toBe(false);
    body.br = best;
    const b = await rawRequest(base, '/hot', { 'accept-encoding': 'br' });
    expect(b.body.equals(best)).toBe(true);
    expect(Number(b.headers['content-length'])).toBe(best.length);
    expect(brotliDecompressSync(b.body).toString()).toBe(text);
  });
});
