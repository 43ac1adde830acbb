/**
 * A response body serialised and compressed once, then served many times: the hot endpoints
 * (GET /stations) cost a header check and a socket write per request, not a SQLite query, a
 * JSON.stringify and a compression.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export interface PrecomputedBody {
  identity: Buffer;
  gzip: Buffer;
  /** Quality 5 at first, replaced by quality 11 when `best` resolves (same bytes once decoded). */
  br: Buffer;
  etag: string;
  contentType: string;
  /** Set when a newer body replaces this one: its pending best-quality pass is skipped. */
  superseded: boolean;
  /** Resolves once `br` holds the best compression (or the pass was skipped). */
  best: Promise<void>;
}

/**
 * Input blocks of 2^16 bytes: at quality 10–11 brotli otherwise picks blocks as large as its window
 * (up to 2^24), and the encoder's per-block buffers, malloc'd on libuv's pool threads, stay in those
 * threads' arenas after the pass (measured on the 180 KB /stations body, 12 passes: +48 MB RSS by
 * default, +29 MB with 2^16 blocks; the body is 2 % smaller, 27,966 instead of 28,483 bytes).
 */
const brotliParams = (quality: number, size: number) => ({
  params: {
    [constants.BROTLI_PARAM_QUALITY]: quality,
    [constants.BROTLI_PARAM_SIZE_HINT]: size,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    [constants.BROTLI_PARAM_LGBLOCK]: 16,
  },
});

/** One best-quality pass at a time: they are slow (seconds) and only the newest body matters. */
let bestQueue: Promise<void> = Promise.resolve();

/**
 * Brotli 11 is ~30 % smaller than 5 on station lists but ~80x slower (2.5 s for 1,500 stations on
 * a busy core): serve quality 5 at once, then swap in quality 11 computed in the background.
 * Both run on libuv's thread pool, never on the event loop: quality 11 done synchronously blocked
 * the loop 0.1–0.4 s per data change (1,495 stations, load 6) for 9 MB less RSS.
 */
export async function precompute(
  value: unknown,
  contentType = 'application/json; charset=utf-8',
  opts: { bestBrotli?: boolean } = {},
): Promise<PrecomputedBody> {
  const identity = Buffer.from(JSON.stringify(value));
  const [gzipBody, brBody] = await Promise.all([
    gz(identity, { level: 9 }),
    brotli(identity, brotliParams(5, identity.length)),
  ]);
  const hash = createHash('sha1').update(identity).digest('base64url').slice(0, 16);
  // Weak: the same entity is served under several content-encodings.
  const body: PrecomputedBody = {
    identity,
    gzip: gzipBody,
    br: brBody,
    etag: `W/"${hash}"`,
    contentType,
    superseded: false,
    best: Promise.resolve(),
  };
  if (opts.bestBrotli) {
    body.best = bestQueue = bestQueue.then(async () => {
      if (body.superseded) return;
      try {
        const best = await brotli(identity, brotliParams(11, identity.length));
        if (best.length < body.br.length) body.br = best;
      } catch {
        // keep the quality-5 body
      }
    });
  }
  return body;
}

export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.slice(2);
  for (const part of header.split(',')) {
    const t = part.trim();
    if (t === etag || t === bare || `W/${t}` === etag) return true;
  }
  return false;
}

export type Encoding = 'br' | 'gzip' | 'identity';

/** br > gzip > identity, honouring an explicit q=0. */
export function pickEncoding(header: string | undefined): Encoding {
  if (!header) return 'identity';
  let gzipOk = false;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const refused = params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
    if (refused) continue;
    const n = name.trim().toLowerCase();
    if (n === 'br') return 'br';
    if (n === 'gzip' || n === '*') gzipOk = true;
  }
  return gzipOk ? 'gzip' : 'identity';
}

export function sendPrecomputed(
  req: FastifyRequest,
  reply: FastifyReply,
  body: PrecomputedBody,
  cacheControl: string,
): FastifyReply {
  reply.header('etag', body.etag).header('cache-control', cacheControl).header('vary', 'Accept-Encoding');
  if (etagMatches(req.headers['if-none-match'], body.etag)) return reply.code(304).send();
  const encoding = pickEncoding(req.headers['accept-encoding']);
  reply.type(body.contentType);
  if (encoding === 'identity') return reply.send(body.identity);
  reply.header('content-encoding', encoding);
  return reply.send(encoding === 'br' ? body.br : body.gzip);
}
