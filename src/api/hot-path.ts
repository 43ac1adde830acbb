/**
 * The hot path: GET/HEAD of a few precomputed resources (`/api/v1/stations`, its GeoJSON) answered
 * straight from the HTTP server's request event, before Fastify builds its request and reply
 * objects and runs the router, the plugins' hooks (Helmet, CORS, ETag, compression) and the
 * serialiser. The answer of each (body, content-encoding) — bytes and complete header list,
 * security headers and CORS included — is built once per data change, so a request costs a
 * header lookup or two and one socket write (~20 µs of CPU instead of ~40 µs through Fastify; see
 * docs/performance.md §5).
 *
 * Anything the hot path does not fully own falls through to Fastify unchanged: a query string
 * (validated there: 400 naming the parameter), another method, a body not built yet or older than
 * the data (the Fastify route waits for the rebuild), a server that is closing (503 there).
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { Histogram } from 'prom-client';
import { etagMatches, pickEncoding, type Encoding, type PrecomputedBody } from './precomputed.js';

/** The current body of a resource, or null when only the Fastify route can answer now. */
export type HotSource = () => PrecomputedBody | null;

export interface HotPathOptions {
  /** Headers of every answer (Helmet, CORS): see security.ts. */
  staticHeaders: [string, string][];
  /** Cache-Control of the data (tuned to the poll interval). */
  cacheControl: string;
  latency: Histogram<'method' | 'route' | 'status'>;
}

interface Head {
  /** The buffer this header list describes (brotli is swapped for a smaller one later). */
  body: Buffer;
  /** Flat [name, value, name, value…] list, as http.ServerResponse.writeHead takes it. */
  headers: string[];
}

interface Heads {
  br?: Head;
  gzip?: Head;
  identity?: Head;
  notModified?: string[];
}

/** Accept-Encoding values seen: browsers and clients send a handful of distinct strings. */
const MAX_CACHED_ACCEPT = 64;

export class HotPath {
  /** Set by the preClose hook: Fastify answers 503 from then on. */
  closing = false;
  private readonly routes = new Map<string, HotSource>();
  private readonly heads = new WeakMap<PrecomputedBody, Heads>();
  private readonly encodingByAccept = new Map<string, Encoding>();
  private readonly labels = new Map<string, { method: string; route: string; status: string }>();

  constructor(private readonly opts: HotPathOptions) {}

  /** Serve GET/HEAD `url` (exact, no query string) from `source` when it has a body. */
  add(url: string, source: HotSource): void {
    this.routes.set(url, source);
  }

  /** An http.Server whose requests go to the hot path first, then to Fastify's handler. */
  createServer(
    fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void,
    fastifyOptions: {
      http?: ServerOptions | null;
      keepAliveTimeout?: number;
      requestTimeout?: number;
      connectionTimeout?: number;
      maxRequestsPerSocket?: number;
    },
  ): Server {
    const server = createServer(fastifyOptions.http ?? {}, (req, res) => {
      if (!this.handle(req, res)) fastifyHandler(req, res);
    });
    // What Fastify does to the servers it creates itself (fastify/lib/server.js).
    if (fastifyOptions.keepAliveTimeout !== undefined)
      server.keepAliveTimeout = fastifyOptions.keepAliveTimeout;
    if (fastifyOptions.requestTimeout !== undefined) server.requestTimeout = fastifyOptions.requestTimeout;
    server.setTimeout(fastifyOptions.connectionTimeout ?? 0);
    if (fastifyOptions.maxRequestsPerSocket !== undefined && fastifyOptions.maxRequestsPerSocket > 0)
      server.maxRequestsPerSocket = fastifyOptions.maxRequestsPerSocket;
    return server;
  }

  /** Answers the request and returns true, or returns false (untouched) for Fastify to answer. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const startMs = performance.now();
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || this.closing) return false;
    const url = req.url ?? '';
    const source = this.routes.get(url);
    if (source === undefined) return false;
    const body = source();
    if (body === null) return false;
    let heads = this.heads.get(body);
    if (heads === undefined) {
      heads = {};
      this.heads.set(body, heads);
    }
    let status: 200 | 304;
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, body.etag)) {
      status = 304;
      heads.notModified ??= this.notModifiedHeaders(body);
      res.writeHead(304, heads.notModified);
      res.end();
    } else {
      status = 200;
      const encoding = this.encodingOf(req.headers['accept-encoding']);
      let head = heads[encoding];
      if (head === undefined || head.body !== body[encoding]) {
        head = this.head(body, encoding);
        heads[encoding] = head;
      }
      res.writeHead(200, head.headers);
      res.end(head.body);
    }
    this.opts.latency.observe(this.labelsOf(method, url, status), (performance.now() - startMs) / 1000);
    return true;
  }

  private encodingOf(accept: string | undefined): Encoding {
    if (accept === undefined) return 'identity';
    let encoding = this.encodingByAccept.get(accept);
    if (encoding === undefined) {
      encoding = pickEncoding(accept);
      if (this.encodingByAccept.size >= MAX_CACHED_ACCEPT) this.encodingByAccept.clear();
      this.encodingByAccept.set(accept, encoding);
    }
    return encoding;
  }

  private commonHeaders(body: PrecomputedBody): string[] {
    const out: string[] = [];
    for (const [name, value] of this.opts.staticHeaders) out.push(name, value);
    out.push('etag', body.etag, 'cache-control', this.opts.cacheControl, 'vary', 'Accept-Encoding');
    return out;
  }

  private notModifiedHeaders(body: PrecomputedBody): string[] {
    return this.commonHeaders(body);
  }

  private head(body: PrecomputedBody, encoding: Encoding): Head {
    const bytes = body[encoding];
    const headers = this.commonHeaders(body);
    headers.push('content-type', body.contentType);
    if (encoding !== 'identity') headers.push('content-encoding', encoding);
    headers.push('content-length', String(bytes.length));
    return { body: bytes, headers };
  }

  private labelsOf(
    method: string,
    route: string,
    status: number,
  ): { method: string; route: string; status: string } {
    const key = `${method} ${status} ${route}`;
    let labels = this.labels.get(key);
    if (labels === undefined) {
      labels = { method, route, status: String(status) };
      this.labels.set(key, labels);
    }
    return labels;
  }
}
