/** The small pieces of arithmetic behind the `poisson` detector (pure functions). */
import type { ActivityView } from './types.js';

/**
 * P(no event | expected Λ) under a negative binomial of shape κ (gamma–Poisson: the rate itself
 * varies from day to day): (1 + Λ/κ)^−κ, which tends to e^−Λ as κ → ∞.
 */
export function silenceP(lambda: number, kappa: number): number {
  return Math.pow(1 + lambda / kappa, -kappa);
}

/** The Λ above which silenceP(Λ, κ) < p: (1 + Λ/κ)^−κ < p ⇔ Λ > κ(p^(−1/κ) − 1). Falls as κ rises. */
export function silenceThreshold(p: number, kappa: number): number {
  return kappa * (Math.pow(p, -1 / kappa) - 1);
}

/** Day type × local hour bucket, from the activity model's local slot (DST-correct there). */
export function localBucket(timeSec: number, activity: ActivityView): { bucket: number; day: number } {
  const slot = activity.slotOf(timeSec);
  const utcSecOfDay = ((timeSec % 86_400) + 86_400) % 86_400;
  let offsetSec = slot * 600 + (utcSecOfDay % 600) - utcSecOfDay;
  // Offsets lie in (−12 h, +14 h]: fold the day wrap back.
  if (offsetSec > 14 * 3600) offsetSec -= 86_400;
  else if (offsetSec <= -12 * 3600) offsetSec += 86_400;
  const day = Math.floor((timeSec + offsetSec) / 86_400);
  const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (0 = Sunday)
  const weekend = weekday === 0 || weekday === 6;
  return { bucket: (weekend ? 24 : 0) + Math.floor(slot / 6), day };
}

/**
 * Rates are learned as occurrences (polls with at least one move in a direction) per hour, so
 * `m = rate × poll interval` is the probability p that a poll shows a move, not a Poisson mean: a busy
 * station saturates (two rentals in one poll count once). The evidence of one silent poll is then
 * −ln(1 − p), the Poisson intensity behind p (complementary log-log link of binned counts), which is
 * m for quiet stations and up to 1.4 m at p = 0.5: busy stations are flagged sooner.
 */
export function binnedHazard(m: number): number {
  if (m < 0.02) return m;
  return -Math.log(1 - (m < 0.95 ? m : 0.95));
}

/**
 * Float64Array ↔ base64, for checkpoints: exact (the bytes themselves, little-endian as on every
 * host Node runs on here), about 11 characters a number instead of up to 24 as JSON numbers, and
 * no per-number formatting. Plain arrays (older checkpoints) are read too.
 */
export function packF64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function unpackF64(x: string | readonly number[]): Float64Array {
  if (typeof x !== 'string') return Float64Array.from(x);
  const bytes = Buffer.from(x, 'base64');
  const out = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
