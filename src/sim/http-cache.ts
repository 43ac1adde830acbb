/**
 * HTTP caching and compression for the simulated feed, done the way real feed servers do:
 * strong ETag from the body, Last-Modified, 304 on a matching conditional GET (RFC 9110 §13.1:
 * If-None-Match wins over If-Modified-Since), gzip when the client accepts it.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

export interface Rendered {
  body: Buffer;
  etag: string;
  lastModifiedSec: number;
  gzipped?: Buffer;
}

export function render(doc: object, lastModifiedSec: number): Rendered {
  const body = Buffer.from(JSON.stringify(doc));
  const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, etag, lastModifiedSec: Math.floor(lastModifiedSec) };
}

/** True when Accept-Encoding lists gzip (or *) with a non-zero q-value. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

function notModified(req: IncomingMessage, r: Rendered): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
    return inm.split(',').some((t) => {
      const tag = t.trim();
      return tag === '*' || tag.replace(/^W\//, '') === r.etag;
    });
  }
  const ims = req.headers['if-modified-since'];
  if (ims !== undefined) {
    const sinceMs = Date.parse(ims);
    return !Number.isNaN(sinceMs) && r.lastModifiedSec * 1000 <= sinceMs;
  }
  return false;
}

export function sendRendered(req: IncomingMessage, res: ServerResponse, r: Rendered): void {
  res.setHeader('ETag', r.etag);
  res.setHeader('Last-Modified', new Date(r.lastModifiedSec * 1000).toUTCString());
  // Revalidate every time: the data changes every simulated minute whatever ttl says.
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Vary', 'Accept-Encoding');
  if (notModified(req, r)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  let payload = r.body;
  if (acceptsGzip(req.headers['accept-encoding'])) {
    r.gzipped ??= gzipSync(r.body);
    payload = r.gzipped;
    res.setHeader('Content-Encoding', 'gzip');
  }
  res.setHeader('Content-Length', payload.length);
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : payload);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
