import { describe, expect, it } from 'vitest';
import { LocalClock, isValidTimeZone, isWeekendDay, localDaySlot } from './slots.js';

const day = (iso: string) => Math.floor(Date.parse(iso) / 86_400_000);

/** Walks a local day minute by minute and counts the distinct slots and minutes it has. */
function walkLocalDay(timeZone: string, localDay: number) {
  const clock = new LocalClock(timeZone);
  // Start well before the UTC midnight of that date: the local day starts within ±14 h of it.
  const slots = new Map<number, number>();
  for (let t = localDay * 86_400 - 15 * 3600; t < (localDay + 1) * 86_400 + 15 * 3600; t += 60) {
    const ds = localDaySlot(t, timeZone);
    expect(clock.day(t)).toBe(ds.day);
    expect(clock.slot(t)).toBe(ds.slot);
    if (ds.day === localDay) slots.set(ds.slot, (slots.get(ds.slot) ?? 0) + 1);
  }
  const minutes = [...slots.values()].reduce((a, b) => a + b, 0);
  return { slots, minutes };
}

describe('localDaySlot', () => {
  it('gives the local date, the ten-minute slot and the weekday', () => {
    // 2025-10-15 13:27:00Z = 15:27 in Paris (UTC+2), a Wednesday.
    const t = Date.parse('2025-10-15T13:27:00Z') / 1000;
    expect(localDaySlot(t, 'Europe/Paris')).toEqual({ day: day('2025-10-15'), slot: 15 * 6 + 2, weekday: 3 });
    // Same instant in Los Angeles: 06:27, Wednesday.
    expect(localDaySlot(t, 'America/Los_Angeles')).toEqual({
      day: day('2025-10-15'),
      slot: 6 * 6 + 2,
      weekday: 3,
    });
    // 23:55 local on a Sunday in LA is still Sunday, though Monday in UTC.
    const late = Date.parse('2023-04-03T06:55:00Z') / 1000;
    expect(localDaySlot(late, 'America/Los_Angeles')).toEqual({
      day: day('2023-04-02'),
      slot: 143,
      weekday: 0,
    });
  });

  it('Europe/Paris spring forward: a 23-hour day with 138 slots, 02:00-02:59 missing', () => {
    const { slots, minutes } = walkLocalDay('Europe/Paris', day('2025-03-30'));
    expect(minutes).toBe(23 * 60);
    expect(slots.size).toBe(138);
    for (let s = 12; s < 18; s++) expect(slots.has(s)).toBe(false);
  });

  it('Europe/Paris fall back: a 25-hour day, 144 slots, 02:00-02:59 lived twice', () => {
    const { slots, minutes } = walkLocalDay('Europe/Paris', day('2025-10-26'));
    expect(minutes).toBe(25 * 60);
    expect(slots.size).toBe(144);
    for (let s = 0; s < 144; s++) expect(slots.get(s)).toBe(s >= 12 && s < 18 ? 20 : 10);
  });

  it('America/Los_Angeles: 23-hour and 25-hour days around 02:00 local', () => {
    const spring = walkLocalDay('America/Los_Angeles', day('2023-03-12'));
    expect(spring.minutes).toBe(23 * 60);
    expect(spring.slots.size).toBe(138);
    expect(spring.slots.has(12)).toBe(false);
    const fall = walkLocalDay('America/Los_Angeles', day('2023-11-05'));
    expect(fall.minutes).toBe(25 * 60);
    expect(fall.slots.get(6)).toBe(20); // 01:00-01:10 happens twice
    expect(fall.slots.get(12)).toBe(10);
  });

  it('switches offset on the exact second of the transition', () => {
    const clock = new LocalClock('Europe/Paris');
    const tr = Date.parse('2025-03-30T01:00:00Z') / 1000;
    expect(clock.offsetSec(tr - 1)).toBe(3600);
    expect(clock.offsetSec(tr)).toBe(7200);
    // Lord Howe moves by 30 minutes at 02:00 local standard time = 15:30 UTC, not on a UTC hour.
    const lh = new LocalClock('Australia/Lord_Howe');
    const lhTr = Date.parse('2025-10-04T15:30:00Z') / 1000;
    expect(lh.offsetSec(lhTr - 1)).toBe(10.5 * 3600);
    expect(lh.offsetSec(lhTr)).toBe(11 * 3600);
  });

  it('rejects an unknown time zone with a clear error', () => {
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(() => new LocalClock('Mars/Olympus')).toThrow(/Unknown time zone "Mars\/Olympus"/);
  });

  it('costs well under a microsecond per call once the hour is cached', () => {
    const clock = new LocalClock('Europe/Paris');
    const t0 = Date.parse('2025-10-01T00:00:00Z') / 1000;
    let acc = 0;
    const n = 2_000_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) acc += clock.slot(t0 + (i % 86_400));
    const nsPerCall = Number(process.hrtime.bigint() - start) / n;
    expect(acc).toBeGreaterThan(0);
    expect(nsPerCall).toBeLessThan(500);
  });
});

describe('LocalClock.weekdayAndHour and utcOf', () => {
  const paris = new LocalClock('Europe/Paris');

  it('follows the DST switch (Paris, 30 March 2025 at 01:00 UTC)', () => {
    expect(paris.weekdayAndHour(Date.UTC(2025, 2, 30, 0, 30) / 1000)).toEqual({ weekday: 0, hour: 1.5 });
    expect(paris.weekdayAndHour(Date.UTC(2025, 2, 30, 1, 30) / 1000)).toEqual({ weekday: 0, hour: 3.5 });
  });

  it('gives the local weekday across midnight', () => {
    // Monday 6 October 2025, 23:30 UTC = Tuesday 01:30 in Paris, Monday 16:30 in San Francisco.
    const t = Date.UTC(2025, 9, 6, 23, 30) / 1000;
    expect(paris.weekdayAndHour(t)).toEqual({ weekday: 2, hour: 1.5 });
    expect(new LocalClock('America/Los_Angeles').weekdayAndHour(t)).toEqual({ weekday: 1, hour: 16.5 });
  });

  it('turns a local wall-clock minute back into POSIX time on both sides of a DST switch', () => {
    const day = paris.day(Date.UTC(2025, 2, 30, 12) / 1000);
    expect(paris.utcOf(day, 60)).toBe(Date.UTC(2025, 2, 30, 0, 0) / 1000); // 01:00 CET
    expect(paris.utcOf(day, 4 * 60)).toBe(Date.UTC(2025, 2, 30, 2, 0) / 1000); // 04:00 CEST
    for (const t of [Date.UTC(2025, 5, 1, 9, 10) / 1000, Date.UTC(2025, 11, 1, 23, 50) / 1000]) {
      const { day: d, slot } = paris.daySlot(t);
      expect(paris.utcOf(d, slot * 10)).toBe(t);
    }
  });

  it('knows weekends by local day number', () => {
    expect(isWeekendDay(0)).toBe(false); // Thursday 1 January 1970
    expect(isWeekendDay(2)).toBe(true); // Saturday
    expect(isWeekendDay(3)).toBe(true); // Sunday
    expect(isWeekendDay(-4)).toBe(true); // Sunday 28 December 1969
  });
});
