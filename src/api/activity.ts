/**
 * Today's activity per 10-minute slot beside the usual one, for the system and for one station.
 *
 * "Usual" = mean over the last USUAL_WINDOW_DAYS local days of the same kind (weekdays vs weekend
 * days, the split that matters most for bike-share demand), counting only days the watcher
 * observed for more than half of the day (the activity consumer's `~observed` rows): days it was
 * blind would drag the mean down. Past days never change, so each is aggregated once and kept;
 * today is re-read per snapshot.
 */
import { MIN_OBSERVED_DAY_SEC, OBSERVED_STATION_ID, isWeekendDay, localDaySlot } from '../activity/index.js';
import { activityTotals, type Store } from '../storage/index.js';

export const USUAL_WINDOW_DAYS = 14;
export const SLOTS_PER_DAY = 144;
const TODAY_REFRESH_SEC = 300;

export interface SlotSeries {
  rented: number[];
  returned: number[];
}

export interface ActivityComparison {
  day: number;
  date: string;
  currentSlot: number;
  today: SlotSeries;
  usual: SlotSeries & { days: number };
}

interface DayTotals {
  rented: Float64Array;
  returned: Float64Array;
  /** Seconds of the day the watcher saw the feed. */
  observedSec: number;
}

const zeros = (): number[] => new Array<number>(SLOTS_PER_DAY).fill(0);
const round2 = (x: number): number => Math.round(x * 100) / 100;

export function dateOfDay(day: number): string {
  return new Date(day * 86400_000).toISOString().slice(0, 10);
}

export class ActivityService {
  private readonly pastDays = new Map<number, Promise<DayTotals>>();
  private todayCache: { key: string; value: Promise<ActivityComparison> } | null = null;

  constructor(
    private readonly store: Store,
    private readonly systemId: string,
    private readonly timezone: string,
  ) {}

  /**
   * System totals today vs usual. Today is re-read at most every TODAY_REFRESH_SEC of data time:
   * it is a scan of every station's slots of the day, and the chart shows hours.
   */
  system(nowSec: number): Promise<ActivityComparison> {
    const { day } = localDaySlot(nowSec, this.timezone);
    const key = `${day}:${Math.floor(nowSec / TODAY_REFRESH_SEC)}`;
    if (this.todayCache?.key !== key) {
      const value = this.computeSystem(nowSec);
      // A failed read must not be cached.
      value.catch(() => {
        if (this.todayCache?.value === value) this.todayCache = null;
      });
      this.todayCache = { key, value };
    }
    return this.todayCache.value;
  }

  async station(stationId: string, nowSec: number): Promise<ActivityComparison> {
    const { day, slot } = localDaySlot(nowSec, this.timezone);
    const usualDays = await this.usualDays(day);
    const rows = await this.store.loadActivity(this.systemId, day - USUAL_WINDOW_DAYS, day, stationId);
    const today = { rented: zeros(), returned: zeros() };
    const usual = { rented: zeros(), returned: zeros(), days: usualDays.size };
    for (const r of rows) {
      if (r.slot < 0 || r.slot >= SLOTS_PER_DAY) continue;
      if (r.day === day) {
        today.rented[r.slot]! += r.rented;
        today.returned[r.slot]! += r.returned;
      } else if (usualDays.has(r.day)) {
        usual.rented[r.slot]! += r.rented;
        usual.returned[r.slot]! += r.returned;
      }
    }
    if (usual.days > 0) {
      for (let i = 0; i < SLOTS_PER_DAY; i++) {
        usual.rented[i] = round2(usual.rented[i]! / usual.days);
        usual.returned[i] = round2(usual.returned[i]! / usual.days);
      }
    }
    return { day, date: dateOfDay(day), currentSlot: slot, today, usual };
  }

  /** Aggregate the past days in the background so the first request does not pay for it. */
  warm(nowSec: number): Promise<void> {
    return this.usualDays(localDaySlot(nowSec, this.timezone).day).then(() => undefined);
  }

  private async computeSystem(nowSec: number): Promise<ActivityComparison> {
    const { day, slot } = localDaySlot(nowSec, this.timezone);
    const usualDays = await this.usualDays(day);
    const todayTotals = await this.aggregateDay(day);
    const usual = { rented: zeros(), returned: zeros(), days: usualDays.size };
    for (const d of usualDays) {
      const t = await this.pastDay(d);
      for (let i = 0; i < SLOTS_PER_DAY; i++) {
        usual.rented[i]! += t.rented[i]!;
        usual.returned[i]! += t.returned[i]!;
      }
    }
    if (usual.days > 0) {
      for (let i = 0; i < SLOTS_PER_DAY; i++) {
        usual.rented[i] = round2(usual.rented[i]! / usual.days);
        usual.returned[i] = round2(usual.returned[i]! / usual.days);
      }
    }
    return {
      day,
      date: dateOfDay(day),
      currentSlot: slot,
      today: { rented: Array.from(todayTotals.rented), returned: Array.from(todayTotals.returned) },
      usual,
    };
  }

  /** Past days of the same kind as `day`, inside the window, on which the system was seen active. */
  private async usualDays(day: number): Promise<Set<number>> {
    const out = new Set<number>();
    const weekend = isWeekendDay(day);
    for (let d = day - USUAL_WINDOW_DAYS; d < day; d++) {
      if (isWeekendDay(d) !== weekend) continue;
      // One day at a time: bounded memory, and the event loop breathes between days.
      if ((await this.pastDay(d)).observedSec > MIN_OBSERVED_DAY_SEC) out.add(d);
    }
    return out;
  }

  private pastDay(day: number): Promise<DayTotals> {
    let p = this.pastDays.get(day);
    if (!p) {
      p = this.aggregateDay(day);
      p.catch(() => this.pastDays.delete(day));
      this.pastDays.set(day, p);
      if (this.pastDays.size > USUAL_WINDOW_DAYS * 3) {
        const oldest = Math.min(...this.pastDays.keys());
        this.pastDays.delete(oldest);
      }
    }
    return p;
  }

  /** Summed by the store: one row per slot, not one per station and slot (~200,000 for Vélib'). */
  private async aggregateDay(day: number): Promise<DayTotals> {
    const [totals, observed] = await Promise.all([
      activityTotals(this.store, this.systemId, day, day, [OBSERVED_STATION_ID]),
      this.store.loadActivity(this.systemId, day, day, OBSERVED_STATION_ID),
    ]);
    const rented = new Float64Array(SLOTS_PER_DAY);
    const returned = new Float64Array(SLOTS_PER_DAY);
    for (const t of totals) {
      if (t.slot < 0 || t.slot >= SLOTS_PER_DAY) continue;
      rented[t.slot]! += t.rented;
      returned[t.slot]! += t.returned;
    }
    // The `~observed` rows' `rented` holds observed seconds, not rentals.
    let observedSec = 0;
    for (const r of observed) observedSec += r.rented;
    return { rented, returned, observedSec };
  }
}
