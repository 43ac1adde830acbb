/**
 * Exponential back-off with "full jitter": wait a uniformly random time between 0 and
 * min(cap, base · 2^attempt). The idea and its comparison with other jitter schemes come from
 * Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog (2015): randomising the
 * whole interval spreads the retries of many clients and finishes the work with the fewest calls.
 *
 * @param attempt 0 for the first retry, 1 for the second, …
 * @param random  source of uniform [0, 1) numbers (injectable for tests)
 */
export function fullJitterDelayMs(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  // 2 ** attempt overflows to Infinity for huge attempts; Math.min keeps the cap.
  const ceilingMs = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceilingMs);
}
