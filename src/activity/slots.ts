/**
 * Local calendar day and ten-minute slot of a POSIX time in the system's time zone, DST-correct.
 *
 * `Intl.DateTimeFormat` knows the time-zone rules but costs about a microsecond per call; the UTC
 * offset is constant between transitions, so it is computed once per UTC hour and cached, and the
 * run of cached hours around the last answer is checked first with two comparisons. An hour
 * that contains a transition (offsets differ at its two ends) keeps the exact second of the change,
 * found by bisection: this also covers zones whose transitions are not on a UTC hour (Lord Howe).
 */

export const SLOTS_PER_DAY = 144;
export const SLOT_SEC = 600;
const DAY_SEC = 86_400;
const HOUR_SEC = 3_600;
/** Bound on cached hours (~11 years); the cache is simply dropped when full. */
const MAX_CACHED_HOURS = 100_000;

export interface LocalDaySlot {
  /** Local calendar day, as days since 1970-01-01. */
  day: number;
  /** 0..143, ten-minute slot of the local day. */
  slot: number;
  /** 0 = Sunday … 6 = Saturday (as Date#getUTCDay). */
  weekday: number;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export class LocalClock {
  private readonly fmt: Intl.DateTimeFormat;
  /** UTC hour index → offset in seconds, for hours without a transition. */
  private readonly hourOffset = new Map<number, number>();
  /** UTC hour index → [transition second, offset before, offset after]. */
  private readonly hourTransition = new Map<number, [number, number, number]>();
  /** [rangeLoSec, rangeHiSec): consecutive cached hours with one offset, answered by two comparisons. */
  private rangeLoSec = 0;
  private rangeHiSec = 0;
  private rangeOffsetSec = 0;

  constructor(readonly timeZone: string) {
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`Unknown time zone "${timeZone}": expected an IANA name such as Europe/Paris`);
    }
  }

  /** Local time minus UTC, in seconds, at `timeSec`. */
  offsetSec(timeSec: number): number {
    if (timeSec >= this.rangeLoSec && timeSec < this.rangeHiSec) return this.rangeOffsetSec;
    const hour = Math.floor(timeSec / HOUR_SEC);
    const cached = this.hourOffset.get(hour);
    if (cached !== undefined) {
      this.extendRange(hour, cached);
      return cached;
    }
    const tr = this.hourTransition.get(hour);
    if (tr !== undefined) return timeSec < tr[0] ? tr[1] : tr[2];
    this.cacheHour(hour);
    return this.offsetSec(timeSec);
  }

  /** Local calendar day (days since 1970-01-01). */
  day(timeSec: number): number {
    return Math.floor((timeSec + this.offsetSec(timeSec)) / DAY_SEC);
  }

  /** Ten-minute slot of the local day, 0..143. */
  slot(timeSec: number): number {
    const local = timeSec + this.offsetSec(timeSec);
    return Math.floor((local - Math.floor(local / DAY_SEC) * DAY_SEC) / SLOT_SEC);
  }

  /** Day, slot and weekday together (allocates one object: use day()/slot() in hot loops). */
  daySlot(timeSec: number): LocalDaySlot {
    const local = timeSec + this.offsetSec(timeSec);
    const day = Math.floor(local / DAY_SEC);
    const slot = Math.floor((local - day * DAY_SEC) / SLOT_SEC);
    // 1970-01-01 was a Thursday (4).
    return { day, slot, weekday: (((day + 4) % 7) + 7) % 7 };
  }

  /** Local weekday (0 = Sunday) and fractional hour of the local day, [0, 24). */
  weekdayAndHour(timeSec: number): { weekday: number; hour: number } {
    const local = timeSec + this.offsetSec(timeSec);
    const day = Math.floor(local / DAY_SEC);
    return { weekday: (((day + 4) % 7) + 7) % 7, hour: (local - day * DAY_SEC) / HOUR_SEC };
  }

  /** POSIX time of a wall-clock minute of a local day (DST: the offset in force at that instant). */
  utcOf(day: number, minuteOfDay: number): number {
    const wall = day * DAY_SEC + minuteOfDay * 60;
    const guess = wall - this.offsetSec(wall);
    return wall - this.offsetSec(guess);
  }

  /** Grows the fast range by an adjacent hour with the same offset, else restarts it there. */
  private extendRange(hour: number, offsetSec: number): void {
    const lo = hour * HOUR_SEC;
    const hi = lo + HOUR_SEC;
    if (offsetSec === this.rangeOffsetSec && this.rangeHiSec > this.rangeLoSec) {
      if (lo === this.rangeHiSec) {
        this.rangeHiSec = hi;
        return;
      }
      if (hi === this.rangeLoSec) {
        this.rangeLoSec = lo;
        return;
      }
    }
    this.rangeLoSec = lo;
    this.rangeHiSec = hi;
    this.rangeOffsetSec = offsetSec;
  }

  private cacheHour(hour: number): void {
    if (this.hourOffset.size + this.hourTransition.size >= MAX_CACHED_HOURS) {
      this.hourOffset.clear();
      this.hourTransition.clear();
    }
    const start = hour * HOUR_SEC;
    const end = start + HOUR_SEC - 1;
    const a = this.computeOffsetSec(start);
    const b = this.computeOffsetSec(end);
    if (a === b) {
      this.hourOffset.set(hour, a);
      return;
    }
    // One transition inside this hour: find its first second (rules never change twice in an hour).
    let lo = start;
    let hi = end;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.computeOffsetSec(mid) === a) lo = mid;
      else hi = mid;
    }
    this.hourTransition.set(hour, [hi, a, b]);
  }

  private computeOffsetSec(timeSec: number): number {
    const t = Math.floor(timeSec);
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    for (const p of this.fmt.formatToParts(new Date(t * 1000))) {
      if (p.type === 'year') y = Number(p.value);
      else if (p.type === 'month') mo = Number(p.value);
      else if (p.type === 'day') d = Number(p.value);
      else if (p.type === 'hour') h = Number(p.value);
      else if (p.type === 'minute') mi = Number(p.value);
      else if (p.type === 'second') s = Number(p.value);
    }
    return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - t;
  }
}

/** Saturday or Sunday, for a local day counted since 1970-01-01 (a Thursday). */
export function isWeekendDay(day: number): boolean {
  const weekday = (((day + 4) % 7) + 7) % 7;
  return weekday === 0 || weekday === 6;
}

const clocks = new Map<string, LocalClock>();

/** The shared clock of a time zone (clocks are cached per zone, so their offset caches are shared). */
export function localClock(timeZone: string): LocalClock {
  let c = clocks.get(timeZone);
  if (c === undefined) {
    c = new LocalClock(timeZone);
    clocks.set(timeZone, c);
  }
  return c;
}

/** Local day, ten-minute slot and weekday of `timeSec` in `timeZone`. Throws RangeError on an unknown zone. */
export function localDaySlot(timeSec: number, timeZone: string): LocalDaySlot {
  return localClock(timeZone).daySlot(timeSec);
}
