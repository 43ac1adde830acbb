import { fullJitterDelayMs } from './backoff.js';
import { FeedHttpError } from './errors.js';
import { realScheduler, sleep, type Scheduler } from './scheduler.js';
import { USER_AGENT } from './version.js';

export interface HttpFetcherOptions {
  /** Per attempt, including reading the body. */
  timeoutMs?: number;
  /** Extra attempts after the first one, for network errors, timeouts, 5xx, 408 and 429. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  userAgent?: string;
  /** Clock for the back-off sleeps (the request timeout itself is real time: it bounds real I/O). */
  scheduler?: Scheduler;
  random?: () => number;
}

export type FetchResult =
  | {
      kind: 'ok';
      url: string;
      status: number;
      body: string;
      etag: string | null;
      lastModified: string | null;
      attempts: number;
    }
  /** 304: the server says the document has not changed since the one we hold. */
  | { kind: 'not_modified'; url: string; status: 304; attempts: number };

interface Validators {
  etag: string | null;
  lastModified: string | null;
}

/**
 * GET with a timeout, retries and conditional requests. Node's global `fetch` (undici) is enough:
 * it decodes gzip and brotli bodies itself when we advertise them.
 */
export class HttpFetcher {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly userAgent: string;
  private readonly scheduler: Scheduler;
  private readonly random: () => number;
  private readonly validators = new Map<string, Validators>();

  constructor(opts: HttpFetcherOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.retries = opts.retries ?? 2;
    this.baseDelayMs = opts.baseDelayMs ?? 1_000;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.userAgent = opts.userAgent ?? USER_AGENT;
    this.scheduler = opts.scheduler ?? realScheduler;
    this.random = opts.random ?? Math.random;
  }

  /** Drop the remembered ETag / Last-Modified of `url`: the next GET is unconditional. */
  forget(url: string): void {
    this.validators.delete(url);
  }

  /**
   * GET `url`. Resolves with the body (200) or `not_modified` (304); rejects with a
   * `FeedHttpError` once every attempt failed, or at once when `signal` aborts.
   */
  async get(url: string, opts: { signal?: AbortSignal; conditional?: boolean } = {}): Promise<FetchResult> {
    const conditional = opts.conditional ?? true;
    let attempt = 0;
    for (;;) {
      attempt++;
      let error: FeedHttpError;
      try {
        const result = await this.attempt(url, attempt, conditional, opts.signal);
        if (!(result instanceof FeedHttpError)) return result;
        error = result;
      } catch (cause) {
        if (opts.signal?.aborted) throw new FeedHttpError({ url, kind: 'aborted', attempts: attempt, cause });
        const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
        error = new FeedHttpError({ url, kind: timedOut ? 'timeout' : 'network', attempts: attempt, cause });
      }
      if (!error.retryable || attempt > this.retries) throw error;
      const delayMs = Math.max(
        fullJitterDelayMs(attempt - 1, this.baseDelayMs, this.maxDelayMs, this.random),
        Math.min(error.retryAfterMs, this.maxDelayMs),
      );
      try {
        await sleep(this.scheduler, delayMs, opts.signal);
      } catch (cause) {
        throw new FeedHttpError({ url, kind: 'aborted', attempts: attempt, cause });
      }
    }
  }

  /** One request. A non-2xx answer is returned (not thrown) as an error carrying its Retry-After. */
  private async attempt(
    url: string,
    attempt: number,
    conditional: boolean,
    signal: AbortSignal | undefined,
  ): Promise<FetchResult | FeedHttpError> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      'accept-encoding': 'gzip, br',
      accept: 'application/json',
    };
    const known = conditional ? this.validators.get(url) : undefined;
    // RFC 9110 §13.1: send both validators; a server that understands If-None-Match ignores the date.
    if (known?.etag) headers['if-none-match'] = known.etag;
    if (known?.lastModified) headers['if-modified-since'] = known.lastModified;

    const res = await fetch(url, {
      headers,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      redirect: 'follow',
    });
    if (res.status === 304) {
      await res.body?.cancel();
      return { kind: 'not_modified', url, status: 304, attempts: attempt };
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel();
      const retryAfterMs = parseRetryAfterMs(res.headers.get('retry-after'), this.scheduler.now());
      return new FeedHttpError({
        url,
        kind: 'http_status',
        status: res.status,
        attempts: attempt,
        retryAfterMs,
      });
    }
    const body = await res.text();
    const etag = res.headers.get('etag');
    const lastModified = res.headers.get('last-modified');
    if (etag || lastModified) this.validators.set(url, { etag, lastModified });
    else this.validators.delete(url);
    return { kind: 'ok', url, status: res.status, body, etag, lastModified, attempts: attempt };
  }
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfterMs(value: string | null, nowMs: number): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const dateMs = Date.parse(value);
  return Number.isFinite(dateMs) ? Math.max(0, dateMs - nowMs) : 0;
}
