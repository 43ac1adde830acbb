/**
 * Local-time helpers over the activity folder's LocalClock, so that the API reads activity rows
 * with exactly the day/slot keys the pipeline wrote them with.
 */
import { localClock } from '../activity/index.js';

export interface LocalSlot {
  day: number;
  slot: number;
}

export function localSlotOf(timeSec: number, timezone: string): LocalSlot {
  const c = localClock(timezone);
  return { day: c.day(timeSec), slot: c.slot(timeSec) };
}

/** POSIX time of a local wall-clock minute of a local day (DST: the offset at that instant). */
export function localToUtcSec(day: number, minuteOfDay: number, timezone: string): number {
  const c = localClock(timezone);
  const wall = day * 86400 + minuteOfDay * 60;
  const guess = wall - c.offsetSec(wall);
  return wall - c.offsetSec(guess);
}

/** Saturday and Sunday (1970-01-01, day 0, was a Thursday). */
export function isWeekend(day: number): boolean {
  const wd = (((day + 4) % 7) + 7) % 7;
  return wd === 0 || wd === 6;
}
