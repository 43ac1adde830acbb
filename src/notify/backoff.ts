/**
 * Retry delays: exponential back-off with "equal jitter" (half fixed, half random), after the
 * AWS Architecture Blog's "Exponential Backoff and Jitter" (2015). The random half spreads the
 * retries of many deliveries that failed together (a receiver that was down) so they do not hit
 * it again at the same instant; the fixed half keeps a floor so a retry is never immediate.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Delay before the next attempt after `failures` failed attempts (1 = after the first failure). */
export function backoffDelayMs(
  failures: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30); // 2^30 × base overflows any cap anyway
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
