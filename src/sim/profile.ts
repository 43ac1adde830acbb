/**
 * When people ride: the demand profile of the simulated system.
 *
 * Shapes follow what bike-share trip data shows everywhere (e.g. the published Vélib' and Citi Bike
 * hourly trip counts): on weekdays two commuting peaks (8–9 h and 17–19 h) with a lunch bump and a
 * night trough ~25× below the peaks; at weekends one broad afternoon hump and livelier late nights,
 * about 80 % of a weekday's trips. The numbers below are hand-drawn to that shape, not fitted.
 *
 * Commuting also has a direction: in the morning outer (residential) stations empty and central
 * (work) stations fill, the reverse in the evening. `flowAt` gives that tilt in [-1, 1].
 */

// Relative trips per hour, local time, hour 0 = 00:00–01:00.
const WEEKDAY_RAW = [
  0.25, 0.15, 0.1, 0.07, 0.07, 0.15, 0.45, 1.3, 2.4, 1.6, 0.95, 0.95, 1.2, 1.2, 1.0, 1.05, 1.35, 2.0, 2.4,
  1.7, 1.15, 0.9, 0.7, 0.45,
];
const WEEKEND_RAW = [
  0.5, 0.4, 0.3, 0.18, 0.1, 0.1, 0.15, 0.3, 0.5, 0.8, 1.05, 1.25, 1.4, 1.45, 1.5, 1.55, 1.55, 1.45, 1.3, 1.05,
  0.85, 0.7, 0.6, 0.55,
];

// Scale so that a weekday averages 1: a station's `busyness` is then its mean events per hour on a weekday.
const WEEKDAY_MEAN = WEEKDAY_RAW.reduce((a, b) => a + b, 0) / 24;
const WEEKDAY = Float64Array.from(WEEKDAY_RAW, (v) => v / WEEKDAY_MEAN);
const WEEKEND = Float64Array.from(WEEKEND_RAW, (v) => v / WEEKDAY_MEAN);

/**
 * Demand multiplier at a local time. Values sit at the middle of each hour and are interpolated
 * linearly, so that demand does not jump at every o'clock (a detector would learn the steps).
 * @param weekday 0 = Sunday … 6 = Saturday
 * @param hour local hour of day, fractional, in [0, 24)
 */
export function demandAt(weekday: number, hour: number): number {
  const table = weekday === 0 || weekday === 6 ? WEEKEND : WEEKDAY;
  const x = hour - 0.5;
  const lo = Math.floor(x);
  const frac = x - lo;
  const a = table[(lo + 24) % 24] as number;
  const b = table[(lo + 25) % 24] as number;
  return a + (b - a) * frac;
}

/**
 * Commuting tilt: > 0 when riders go from residential to central stations (weekday mornings),
 * < 0 in the evening. Two Gaussian bumps whose areas cancel (1.0 × 1.2 h ≈ 0.8 × 1.5 h), so a
 * station's stock does not drift over a day from the tilt alone. Much weaker at weekends.
 */
export function flowAt(weekday: number, hour: number): number {
  const amplitude = weekday === 0 || weekday === 6 ? 0.15 : 1;
  const morning = (hour - 8.25) / 1.2;
  const evening = (hour - 18) / 1.5;
  return amplitude * (Math.exp(-morning * morning) - 0.8 * Math.exp(-evening * evening));
}

/** Whether rebalancing vans work at this local hour (day shift, as most operators run them). */
export function vansWorking(hour: number): boolean {
  return hour >= 6 && hour < 22;
}
