import { describe, expect, it } from 'vitest';
import type { StationStatus, StatusDocument } from '../feed/model.js';
import { TraceSummary } from './summary.js';

const H = 3600;
const T0 = 1_700_006_400; // Wed 2023-11-15 00:00 UTC (a weekday)

function doc(t: number, bikes: number): StatusDocument {
  const s: StationStatus = {
    stationId: 'a',
    code: null,
    bikes: { mechanical: bikes, electric: 0, other: 0 },
    bikesDisabled: 0,
    docksAvailable: 10 - bikes,
    docksDisabled: 0,
    isInstalled: true,
    isRenting: true,
    isReturning: true,
    lastReportedSec: null,
  };
  return { lastUpdatedSec: t, ttlSec: 60, version: '2.3', stations: [s] };
}

/** Two weekdays (UTC) polled every 10 min: one bike moves at every poll from `fromH` to `toH` UTC, none otherwise. */
function dayBusyNightQuiet(fromH = 8, toH = 18, timeZone = 'UTC'): TraceSummary {
  const sum = new TraceSummary(1800);
  sum.timeZone = timeZone;
  let bikes = 5;
  for (let t = T0; t < T0 + 2 * 86_400; t += 600) {
    const hour = ((t - T0) % 86_400) / H;
    if (hour > fromH && hour <= toH) bikes = bikes === 5 ? 6 : 5;
    sum.add(doc(t, bikes));
  }
  return sum;
}

describe('TraceSummary', () => {
  it('averages busyness over the whole day, but the window profile knows day from night', () => {
    const sum = dayBusyNightQuiet();
    const [a] = sum.stations(0);
    // 6 moves/h for 10 h a day: 2.5/h on average, which says nothing about 02:00.
    expect(a!.eventsPerHour).toBeCloseTo(2.5, 1);
    const night = sum.expectWindow('a', T0 + 86_400 + 1 * H, T0 + 86_400 + 5 * H);
    expect(night.expectedEvents).toBe(0);
    expect(night.firstExpectedSec).toBeNull();
    const day = sum.expectWindow('a', T0 + 86_400 + 10 * H, T0 + 86_400 + 12 * H);
    expect(day.expectedEvents).toBeCloseTo(12, 0);
    expect(day.firstExpectedSec).toBe(T0 + 86_400 + 10 * H + 600);
    // A lock from 06:00 to 10:00: the first event is due only after 08:00.
    const dawn = sum.expectWindow('a', T0 + 86_400 + 6 * H, T0 + 86_400 + 10 * H);
    expect(dawn.firstExpectedSec! - (T0 + 86_400 + 8 * H)).toBeGreaterThan(0);
    expect(dawn.firstExpectedSec! - (T0 + 86_400 + 8 * H)).toBeLessThanOrEqual(1200);
    expect(sum.expectWindow('unknown', T0, T0 + H)).toEqual({ expectedEvents: 0, firstExpectedSec: null });
  });

  it('keeps weekdays and weekends apart, in the local time of the system', () => {
    const sat = T0 + 3 * 86_400;
    // Busy 02:00–06:00 UTC on Wednesday and Thursday: in UTC those are weekday mornings, so Saturday
    // 02:00–04:00 UTC (weekend) expects nothing…
    const utc = dayBusyNightQuiet(2, 6);
    expect(utc.expectWindow('a', sat + 2 * H, sat + 4 * H).expectedEvents).toBe(0);
    // …but in Los Angeles they were Tuesday and Wednesday evenings 18:00–22:00 PST, and Saturday
    // 02:00 UTC is Friday 18:00 PST, a weekday evening: busy.
    const la = dayBusyNightQuiet(2, 6, 'America/Los_Angeles');
    expect(la.expectWindow('a', sat + 2 * H, sat + 4 * H).expectedEvents).toBeGreaterThan(10);
    expect(la.expectWindow('a', sat + 10 * H, sat + 12 * H).expectedEvents).toBe(0);
  });
});
