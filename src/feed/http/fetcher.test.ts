import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedHttpError, HttpFetcher, USER_AGENT, fullJitterDelayMs } from './index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server | null = null;
const seen: IncomingHttpHeaders[] = [];

async function serve(handler: Handler): Promise<string> {
  seen.length = 0;
  let n = 0;
  server = createServer((req, res) => {
    seen.push(req.headers);
    handler(req, res, ++n);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/gbfs/station_status.json`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(null));
  server = null;
});

const BODY = JSON.stringify({ last_updated: 1_700_000_000, ttl: 60, data: { stations: [] } });

describe('HttpFetcher', () => {
  it('retries a 503 and a dropped connection, then succeeds', async () => {
    const url = await serve((_req, res, n) => {
      if (n === 1) return res.writeHead(503).end('busy');
      if (n === 2) return res.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end(BODY);
    });
    const fetcher = new HttpFetcher({ retries: 3, baseDelayMs: 5 });
    const res = await fetcher.get(url);
    expect(res).toMatchObject({ kind: 'ok', status: 200, body: BODY, attempts: 3 });
    expect(seen).toHaveLength(3);
  });

  it('gives up after the retries with an error naming URL, status and attempts', async () => {
    const url = await serve((_req, res) => res.writeHead(502).end());
    const err = await new HttpFetcher({ retries: 2, baseDelayMs: 1 }).get(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedHttpError);
    expect(err).toMatchObject({ url, status: 502, attempts: 3, kind: 'http_status' });
    expect((err as Error).message).toBe(`GET ${url} failed (HTTP 502) after 3 attempts`);
  });

  it('does not retry a 404', async () => {
    const url = await serve((_req, res) => res.writeHead(404).end());
    await expect(new HttpFetcher({ retries: 3, baseDelayMs: 1 }).get(url)).rejects.toMatchObject({
      status: 404,
      attempts: 1,
    });
    expect(seen).toHaveLength(1);
  });

  it('times out a server that never answers', async () => {
    const url = await serve(() => {}); // holds the request open
    const t0 = Date.now();
    const err = await new HttpFetcher({ timeoutMs: 150, retries: 1, baseDelayMs: 1 })
      .get(url)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout', status: null, attempts: 2 });
    expect((err as Error).message).toMatch(/failed \(timeout: .*\) after 2 attempts/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('reports a refused connection as a network error with its cause', async () => {
    const url = await serve(() => {});
    server!.close();
    await new Promise((r) => setTimeout(r, 20));
    const err = await new HttpFetcher({ retries: 0 }).get(url).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network', attempts: 1 });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('sends If-None-Match / If-Modified-Since and treats 304 as not modified', async () => {
    const lastModified = 'Tue, 14 Nov 2023 22:13:20 GMT';
    const url = await serve((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
      res.writeHead(200, { etag: '"v1"', 'last-modified': lastModified }).end(BODY);
    });
    const fetcher = new HttpFetcher({ retries: 0 });
    expect(await fetcher.get(url)).toMatchObject({ kind: 'ok', etag: '"v1"', lastModified });
    expect(await fetcher.get(url)).toMatchObject({ kind: 'not_modified', status: 304 });
    expect(seen[0]!['if-none-match']).toBeUndefined();
    expect(seen[1]).toMatchObject({ 'if-none-match': '"v1"', 'if-modified-since': lastModified });
    // An unconditional GET (and a forgotten URL) gets the body again.
    expect(await fetcher.get(url, { conditional: false })).toMatchObject({ kind: 'ok', body: BODY });
    fetcher.forget(url);
    expect(await fetcher.get(url)).toMatchObject({ kind: 'ok' });
    expect(seen[3]!['if-none-match']).toBeUndefined();
  });

  it('decodes gzip and brotli bodies and sends its User-Agent', async () => {
    const url = await serve((req, res) => {
      const br = req.url!.endsWith('br');
      res.writeHead(200, { 'content-encoding': br ? 'br' : 'gzip' });
      res.end(br ? brotliCompressSync(BODY) : gzipSync(BODY));
    });
    const fetcher = new HttpFetcher({ retries: 0 });
    expect(await fetcher.get(url + '?br')).toMatchObject({ kind: 'ok', body: BODY });
    expect(await fetcher.get(url + '?gz')).toMatchObject({ kind: 'ok', body: BODY });
    expect(seen[0]!['accept-encoding']).toBe('gzip, br');
    expect(seen[0]!['user-agent']).toBe(USER_AGENT);
    expect(USER_AGENT).toMatch(
      /^dockwatch\/\d+\.\d+\.\d+ \(\+https:\/\/github\.com\/dockwatch\/dockwatch\)$/,
    );
  });

  it('stops at once when aborted', async () => {
    const url = await serve(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(new HttpFetcher({ retries: 5 }).get(url, { signal: ac.signal })).rejects.toMatchObject({
      kind: 'aborted',
    });
  });
});

describe('fullJitterDelayMs', () => {
  it('draws uniformly below min(cap, base·2^attempt)', () => {
    expect(fullJitterDelayMs(0, 100, 10_000, () => 0.999)).toBe(99);
    expect(fullJitterDelayMs(3, 100, 10_000, () => 0.5)).toBe(400);
    expect(fullJitterDelayMs(20, 100, 10_000, () => 0.5)).toBe(5000);
    expect(fullJitterDelayMs(5000, 100, 10_000, () => 0)).toBe(0);
  });
});
