import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../events/types.js';
import type { SlotCount } from '../storage/types.js';
import { ActivityModel, OBSERVED_STATION_ID } from './model.js';

const TZ = 'Europe/Paris';
// 2025-11-03 00:00 in Paris (UTC+1), a Monday; no DST change in the following months.
const MIDNIGHT = Date.parse('2025-11-02T23:00:00Z') / 1000;
const DAY0 = Math.floor(Date.parse('2025-11-03') / 86_400_000);
const after = {
  bikes: { mechanical: 0, electric: 0, other: 0 },
  docksAvailable: 0,
  bikesDisabled: 0,
  docksDisabled: 0,
};

let offset = 0;
const ev = (e: Record<string, unknown>) =>
  ({ system: 's', offset: ++offset, ...e }) as unknown as LoggedEvent;
const rented = (stationId: string, timeSec: number, count = 1) =>
  ev({ type: 'rented', stationId, timeSec, count, bikeType: 'mechanical', after });
const returned = (stationId: string, timeSec: number, count = 1) =>
  ev({ type: 'returned', stationId, timeSec, count, bikeType: 'electric', after });
const snapshot = (timeSec: number, intervalSec: number | null) =>
  ev({ type: 'snapshot', timeSec, stations: 1, intervalSec });

/** Feeds whole observed days (a snapshot every 10 minutes) with one rental at 08:05 each day. */
function observeDays(model: ActivityModel, fromDay: number, days: number, out: SlotCount[] = []) {
  for (let d = fromDay; d < fromDay + days; d++) {
    const start = MIDNIGHT + d * 86_400;
    for (let t = start + 600; t <= start + 86_400; t += 600) {
      if (t === start + 8 * 3600 + 600) out.push(...model.apply(rented('a', t - 300)));
      out.push(...model.apply(snapshot(t, 600)));
    }
  }
  return out;
}

describe('ActivityModel', () => {
  it('counts rentals and returns per station, local day and slot', () => {
    const m = new ActivityModel({ timeZone: TZ });
    const t = MIDNIGHT + 8 * 3600 + 5 * 60; // 08:05 local → slot 48
    expect(m.apply(rented('a', t, 2))).toEqual([
      { stationId: 'a', day: DAY0, slot: 48, rented: 2, returned: 0 },
    ]);
    expect(m.apply(returned('a', t + 60))).toEqual([
      { stationId: 'a', day: DAY0, slot: 48, rented: 0, returned: 1 },
    ]);
    m.apply(returned('b', t));
    expect(m.slotOf(t)).toBe(48);
    expect(m.slotCount('a', t, 0)).toBe(3);
    expect(m.slotCount('a', t, 0, 'rented')).toBe(2);
    expect(m.slotCount('a', t, 0, 'returned')).toBe(1);
    expect(m.slotCount('a', t + 600, 0)).toBe(0);
    // One day later, daysAgo = 1 points at the same slot.
    expect(m.slotCount('a', t + 86_400, 1)).toBe(3);
    expect(m.slotCount('b', t + 86_400, 1)).toBe(1);
    expect(m.slotCount('nobody', t, 0)).toBe(0);
  });

  it('matches slots by local time across a DST change', () => {
    const m = new ActivityModel({ timeZone: TZ });
    // Saturday 2025-10-25 09:00 local (UTC+2) and Monday 2025-10-27 09:00 local (UTC+1).
    const sat = Date.parse('2025-10-25T07:00:00Z') / 1000;
    const mon = Date.parse('2025-10-27T08:00:00Z') / 1000;
    m.apply(rented('a', sat));
    expect(m.slotCount('a', mon, 2)).toBe(1);
    expect(m.slotCount('a', mon - 3600, 2)).toBe(0);
  });

  it('forgets days older than the ring and ignores events for them', () => {
    const m = new ActivityModel({ timeZone: TZ, retainDays: 29 });
    const t = MIDNIGHT + 12 * 3600;
    m.apply(rented('a', t));
    m.apply(rented('a', t + 28 * 86_400));
    expect(m.slotCount('a', t + 28 * 86_400, 28)).toBe(1);
    m.apply(rented('a', t + 29 * 86_400)); // day 29 takes the row of day 0
    expect(m.slotCount('a', t + 29 * 86_400, 29)).toBe(0);
    expect(m.slotCount('a', t + 29 * 86_400, 1)).toBe(1);
    expect(m.apply(rented('a', t))).toEqual([]);
    expect(m.slotCount('a', t + 29 * 86_400, 29)).toBe(0);
  });

  it('historyDays counts past days observed for most of the day, since the station appeared', () => {
    const m = new ActivityModel({ timeZone: TZ });
    m.apply(
      ev({ type: 'station_added', stationId: 'a', timeSec: MIDNIGHT + 60, after, flags: {}, info: null }),
    );
    observeDays(m, 0, 3);
    expect(m.observedSec(DAY0)).toBe(86_400);
    expect(m.historyDays('a', MIDNIGHT + 3 * 86_400 + 100)).toBe(3);
    expect(m.historyDays('a', MIDNIGHT + 2 * 86_400 + 100)).toBe(2); // today is not over
    // Day 3: blind from 06:00 on (a gap), only 6 h observed: not history.
    const d3 = MIDNIGHT + 3 * 86_400;
    for (let t = d3 + 600; t <= d3 + 6 * 3600; t += 600) m.apply(snapshot(t, 600));
    m.apply(ev({ type: 'feed_gap', timeSec: d3 + 86_400 + 600, fromSec: d3 + 6 * 3600 }));
    m.apply(snapshot(d3 + 86_400 + 600, 86_400 - 6 * 3600 + 600));
    expect(m.observedSec(DAY0 + 3)).toBe(6 * 3600);
    observeDays(m, 4, 1);
    expect(m.historyDays('a', MIDNIGHT + 5 * 86_400)).toBe(4);
    // A station seen for the first time on day 4 has one day of history.
    m.apply(rented('late', MIDNIGHT + 4 * 86_400 + 7200));
    expect(m.historyDays('late', MIDNIGHT + 5 * 86_400)).toBe(1);
  });

  it('splits an observed interval on slot and day boundaries', () => {
    const m = new ActivityModel({ timeZone: TZ });
    const incs = m.apply(snapshot(MIDNIGHT + 700, 1000)); // 23:55:00 → 00:11:40
    expect(incs).toEqual([
      { stationId: OBSERVED_STATION_ID, day: DAY0 - 1, slot: 143, rented: 300, returned: 0 },
      { stationId: OBSERVED_STATION_ID, day: DAY0, slot: 0, rented: 600, returned: 0 },
      { stationId: OBSERVED_STATION_ID, day: DAY0, slot: 1, rented: 100, returned: 0 },
    ]);
    expect(m.apply(snapshot(MIDNIGHT + 900, null))).toEqual([]);
  });

  it('load() rebuilds from its own increments the same answers after a restart', () => {
    const live = new ActivityModel({ timeZone: TZ });
    const incs: SlotCount[] = [];
    incs.push(
      ...live.apply(
        ev({ type: 'station_added', stationId: 'a', timeSec: MIDNIGHT + 60, after, flags: {}, info: null }),
      ),
    );
    observeDays(live, 0, 9, incs);
    incs.push(...live.apply(returned('a', MIDNIGHT + 9 * 86_400 + 30_000, 4)));
    const restarted = new ActivityModel({ timeZone: TZ });
    restarted.load(incs);
    const now = MIDNIGHT + 9 * 86_400 + 30_100;
    expect(restarted.historyDays('a', now)).toBe(live.historyDays('a', now));
    expect(restarted.historyDays('a', now)).toBe(9);
    for (let daysAgo = 0; daysAgo < 10; daysAgo++) {
      for (const t of [now, MIDNIGHT + 9 * 86_400 + 8 * 3600 + 300]) {
        expect(restarted.slotCount('a', t, daysAgo)).toBe(live.slotCount('a', t, daysAgo));
      }
    }
    expect(restarted.slotCount('a', MIDNIGHT + 9 * 86_400 + 8 * 3600 + 300, 3)).toBe(1);
  });

  it('loadSlot(), slot by slot in day order, rebuilds what load() rebuilds', () => {
    const live = new ActivityModel({ timeZone: TZ });
    const incs = observeDays(live, 0, 9);
    incs.push(...live.apply(returned('a', MIDNIGHT + 9 * 86_400 + 30_000, 4)));
    const byLoad = new ActivityModel({ timeZone: TZ });
    byLoad.load(incs);
    const bySlot = new ActivityModel({ timeZone: TZ });
    for (const s of [...incs].sort((x, y) => x.day - y.day)) bySlot.loadSlot(s);
    const now = MIDNIGHT + 9 * 86_400 + 30_100;
    expect(bySlot.historyDays('a', now)).toBe(byLoad.historyDays('a', now));
    for (let daysAgo = 0; daysAgo < 10; daysAgo++) {
      for (const t of [now, MIDNIGHT + 9 * 86_400 + 8 * 3600 + 300]) {
        expect(bySlot.slotCount('a', t, daysAgo)).toBe(byLoad.slotCount('a', t, daysAgo));
        expect(bySlot.observedSec(DAY0 + 9 - daysAgo)).toBe(byLoad.observedSec(DAY0 + 9 - daysAgo));
      }
    }
  });

  it('saturates a slot at 255 rentals instead of wrapping around', () => {
    const m = new ActivityModel({ timeZone: TZ });
    const t = MIDNIGHT + 3600;
    m.apply(rented('a', t, 200));
    m.apply(rented('a', t, 100));
    m.apply(returned('a', t, 7));
    expect(m.slotCount('a', t, 0, 'rented')).toBe(255);
    expect(m.slotCount('a', t, 0, 'returned')).toBe(7);
  });

  it('windowCounts gives the same sums as slotCount, across midnight', () => {
    const m = new ActivityModel({ timeZone: TZ });
    for (let d = 0; d < 8; d++)
      for (let k = 0; k < 40; k++)
        m.apply(rented('a', MIDNIGHT + d * 86_400 - 3 * 3600 + k * 631, (k % 3) + d));
    const out = new Float64Array(3);
    const refs = [1, 2, 7];
    for (const t of [
      MIDNIGHT + 7 * 86_400 + 300,
      MIDNIGHT + 7 * 86_400 + 1500,
      MIDNIGHT + 7 * 86_400 - 7200,
    ]) {
      m.windowCounts('a', t, 3, refs, out);
      const expected = refs.map(
        (d) => m.slotCount('a', t, d) + m.slotCount('a', t - 600, d) + m.slotCount('a', t - 1200, d),
      );
      expect([...out]).toEqual(expected);
      expect(expected.some((v) => v > 0)).toBe(true);
    }
    m.windowCounts('nobody', MIDNIGHT, 3, refs, out);
    expect([...out]).toEqual([0, 0, 0]);
  });

  it('windowCounts stays right when the ring moves on or a day list is reused between calls', () => {
    const m = new ActivityModel({ timeZone: TZ, retainDays: 3 });
    const t = MIDNIGHT + 2 * 86_400 + 8 * 3600;
    for (const id of ['a', 'b']) for (let d = 0; d < 3; d++) m.apply(rented(id, t - d * 86_400, d + 1));
    const out = new Float64Array(2);
    const refs = [1, 2];
    const sums = (id: string): number[] => refs.map((d) => m.slotCount(id, t, d));
    m.windowCounts('a', t, 1, refs, out);
    expect([...out]).toEqual([2, 3]);
    m.windowCounts('b', t, 1, refs, out);
    expect([...out]).toEqual(sums('b'));
    // Same array, other days (a caller may reuse one): the answer follows the values.
    refs[1] = 0;
    m.windowCounts('a', t, 1, refs, out);
    expect([...out]).toEqual([2, 1]);
    // A new day takes the ring row of the oldest one: the same time now sees that day empty.
    m.apply(rented('a', t + 86_400, 9));
    refs[1] = 2;
    m.windowCounts('a', t, 1, refs, out);
    expect([...out]).toEqual([2, 0]);
    expect([...out]).toEqual(sums('a'));
  });

  it('stays small: 1,500 stations with 29 days of activity', () => {
    const m = new ActivityModel({ timeZone: TZ });
    globalThis.gc?.();
    const before = process.memoryUsage();
    for (let s = 0; s < 1500; s++) m.apply(rented(`s${s}`, MIDNIGHT + 3600));
    const after = process.memoryUsage();
    const usedMb = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1e6;
    expect(m.stationCount).toBe(1500);
    expect(usedMb).toBeLessThan(40);
  });
});
