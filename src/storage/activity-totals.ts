/**
 * Aggregates over the activity slots, computed by the store when it can (SQL `GROUP BY`: a few
 * hundred rows cross the boundary) and from `loadActivity` otherwise. Reading a whole Vélib' day
 * through loadActivity materialises ~200,000 row objects: a fortnight of them at start-up was most
 * of the watcher's peak memory (docs/performance.md §3).
 */
import type { SlotCount, SlotTotal, StationSlot, Store } from './types.js';

const SLOTS_PER_DAY = 144;

/** Activity of all stations but `excludeStationIds`, summed per (day, slot), ordered by day and slot. */
export async function activityTotals(
  store: Store,
  system: string,
  fromDay: number,
  toDay: number,
  excludeStationIds: readonly string[] = [],
): Promise<SlotTotal[]> {
  if (store.activityTotals) return store.activityTotals(system, fromDay, toDay, excludeStationIds);
  const excluded = new Set(excludeStationIds);
  const byKey = new Map<number, SlotTotal>();
  for (const r of await store.loadActivity(system, fromDay, toDay)) {
    if (excluded.has(r.stationId)) continue;
    const key = r.day * SLOTS_PER_DAY + r.slot;
    const t = byKey.get(key);
    if (t === undefined) byKey.set(key, { day: r.day, slot: r.slot, rented: r.rented, returned: r.returned });
    else {
      t.rented += r.rented;
      t.returned += r.returned;
    }
  }
  return [...byKey.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
}

/** Per station, its latest slot of [fromDay, toDay] with a rental or a return. */
export async function lastActivitySlots(
  store: Store,
  system: string,
  fromDay: number,
  toDay: number,
): Promise<StationSlot[]> {
  if (store.lastActivitySlots) return store.lastActivitySlots(system, fromDay, toDay);
  const best = new Map<string, StationSlot>();
  for (const r of await store.loadActivity(system, fromDay, toDay)) {
    if (r.rented + r.returned === 0) continue;
    const b = best.get(r.stationId);
    if (b === undefined || r.day * SLOTS_PER_DAY + r.slot > b.day * SLOTS_PER_DAY + b.slot)
      best.set(r.stationId, { stationId: r.stationId, day: r.day, slot: r.slot });
  }
  return [...best.values()];
}

/** Each slot of [fromDay, toDay], streamed by the store when it can. `visit` must not call the store. */
export async function scanActivity(
  store: Store,
  system: string,
  fromDay: number,
  toDay: number,
  visit: (slot: SlotCount) => void,
): Promise<void> {
  if (store.scanActivity) return store.scanActivity(system, fromDay, toDay, visit);
  for (const r of await store.loadActivity(system, fromDay, toDay)) visit(r);
}
