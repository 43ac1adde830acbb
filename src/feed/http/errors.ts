/** Why a feed request failed. `status` is the HTTP status when the server answered. */
export type FeedHttpErrorKind = 'http_status' | 'timeout' | 'network' | 'aborted';

/**
 * A request that failed after every attempt. Its message names the URL, the status or cause and the
 * attempt count, so a log line alone says what happened.
 */
export class FeedHttpError extends Error {
  override readonly name = 'FeedHttpError';
  readonly url: string;
  readonly kind: FeedHttpErrorKind;
  readonly status: number | null;
  readonly attempts: number;
  /** The server's Retry-After, in ms, when it sent one. */
  readonly retryAfterMs: number;

  constructor(opts: {
    url: string;
    kind: FeedHttpErrorKind;
    status?: number | null;
    attempts: number;
    cause?: unknown;
    retryAfterMs?: number;
  }) {
    const what =
      opts.status != null
        ? `HTTP ${opts.status}`
        : `${opts.kind}${opts.cause ? `: ${describeCause(opts.cause)}` : ''}`;
    super(
      `GET ${opts.url} failed (${what}) after ${opts.attempts} attempt${opts.attempts === 1 ? '' : 's'}`,
      {
        cause: opts.cause,
      },
    );
    this.url = opts.url;
    this.kind = opts.kind;
    this.status = opts.status ?? null;
    this.attempts = opts.attempts;
    this.retryAfterMs = opts.retryAfterMs ?? 0;
  }

  /** 4xx other than 408 / 429 will not get better by asking again. */
  get retryable(): boolean {
    if (this.kind === 'aborted') return false;
    if (this.status === null) return true;
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** undici wraps the useful error (ECONNREFUSED, …) in `cause`; surface it. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    const code = (cause as Error & { code?: string }).code;
    const base = code ? `${code} ${cause.message}` : cause.message;
    return inner instanceof Error ? `${base} (${describeCause(inner)})` : base;
  }
  return String(cause);
}
