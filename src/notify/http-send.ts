/**
 * One outbound POST with the SSRF guard on the connection itself (see url-guard.ts), no
 * redirects followed (a 3xx to an internal address would dodge the guard: it counts as a
 * failure), a hard timeout, and at most a few KB of the answer read (kept for the log).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isForbiddenAddress } from './addresses.js';
import { guardedLookup } from './url-guard.js';

export interface PostOptions {
  headers: Record<string, string | number>;
  body: string | Buffer;
  timeoutMs: number;
  allowPrivate: boolean;
}

export interface PostResult {
  /** HTTP status, null when no answer came (refused, timeout, DNS…). */
  status: number | null;
  /** Why it failed, for the delivery log; null on a 2xx. */
  error: string | null;
  durationMs: number;
}

const MAX_ANSWER_BYTES = 4096;
const MAX_ERROR_CHARS = 300;

function shortError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const text =
    e.code && e.message && !e.message.includes(e.code)
      ? `${e.code}: ${e.message}`
      : (e.message ?? String(err));
  return text.slice(0, MAX_ERROR_CHARS);
}

export function postOnce(target: string, opts: PostOptions): Promise<PostResult> {
  const started = Date.now();
  const done = (status: number | null, error: string | null): PostResult => ({
    status,
    error,
    durationMs: Date.now() - started,
  });
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.resolve(done(null, 'invalid URL'));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve(done(null, `scheme ${url.protocol} refused`));
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // IP literals never reach the lookup function: check them here.
  if (!opts.allowPrivate && net.isIP(host) !== 0 && isForbiddenAddress(host)) {
    return Promise.resolve(done(null, `${host} is a private, loopback or reserved address`));
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...opts.headers, 'content-length': Buffer.byteLength(opts.body) },
        timeout: opts.timeoutMs,
        agent: false, // a fresh connection: each one goes through the guarded lookup
        ...(opts.allowPrivate ? {} : { lookup: guardedLookup }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', (err) => finish(done(status, shortError(err))));
        res.on('end', () => {
          if (status >= 200 && status < 300) return finish(done(status, null));
          const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_CHARS).trim();
          const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
          finish(done(status, `HTTP ${status}${redirect}${text ? `: ${text}` : ''}`));
        });
      },
    );
    // Whole-request deadline: `timeout` alone only covers idle sockets.
    const deadline = setTimeout(
      () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => finish(done(null, shortError(err))));
    req.on('close', () => {
      clearTimeout(deadline);
      // Normally already settled by 'end' or 'error'; this only catches an answer cut short.
      setImmediate(() => finish(done(null, 'connection closed before a complete answer')));
    });
    req.end(opts.body);
  });
}
