/**
 * The time range of an export: `since` (inclusive) to `until` (exclusive), each given as POSIX
 * seconds or as ISO 8601. A date or a date-time without offset is read in the system's time zone,
 * so `since=2025-10-01&until=2025-10-02` is one local day however DST falls.
 */
import { localClock } from '../../activity/index.js';

export class ExportRequestError extends Error {
  constructor(
    message: string,
    readonly param: 'since' | 'until',
    readonly kind: 'invalid_parameter' | 'invalid_range',
  ) {
    super(message);
  }
}

export interface ExportRange {
  sinceSec: number;
  /** Exclusive. */
  untilSec: number;
}

/** 2100-01-01: anything later is a unit mistake (milliseconds given as seconds?). */
const MAX_TIME_SEC = 4_102_444_800;
const DAY_SEC = 86_400;

const POSIX = /^\d{1,15}$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;

function daysFromCivil(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / 86_400_000);
}

/** POSIX seconds of a time parameter, or a ExportRequestError that says what was wrong. */
export function parseTimeParam(value: string, param: 'since' | 'until', timezone: string): number {
  const text = value.trim();
  if (POSIX.test(text)) {
    const sec = Number(text);
    if (sec > MAX_TIME_SEC)
      throw new ExportRequestError(
        `"${param}" is ${text}: POSIX seconds expected (is it milliseconds?).`,
        param,
        'invalid_parameter',
      );
    return sec;
  }
  const m = ISO.exec(text);
  if (!m)
    throw new ExportRequestError(
      `"${param}" must be POSIX seconds or an ISO 8601 date / date-time (e.g. 2025-10-14 or 2025-10-14T08:00:00Z), got "${value}".`,
      param,
      'invalid_parameter',
    );
  const [, y, mo, d, hh = '00', mm = '00', ss = '00', , offset] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(hh);
  const minute = Number(mm);
  const second = Number(ss);
  const date = new Date(Date.UTC(year, month - 1, day));
  const valid =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (!valid)
    throw new ExportRequestError(
      `"${param}" is not a real date or time: "${value}".`,
      param,
      'invalid_parameter',
    );
  const wallSec = daysFromCivil(year, month, day) * DAY_SEC + hour * 3600 + minute * 60 + second;
  let sec: number;
  if (offset === undefined) {
    // Local wall time: subtract the zone's offset at that instant (DST-correct; a time skipped by a
    // spring-forward change maps to the hour after).
    const clock = localClock(timezone);
    sec = wallSec - clock.offsetSec(wallSec - clock.offsetSec(wallSec));
  } else if (offset === 'Z' || offset === 'z') {
    sec = wallSec;
  } else {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const offHours = Number(digits.slice(0, 2));
    const offMinutes = Number(digits.slice(2));
    if (offHours > 23 || offMinutes > 59)
      throw new ExportRequestError(
        `"${param}" has an impossible UTC offset: "${value}".`,
        param,
        'invalid_parameter',
      );
    sec = wallSec - sign * (offHours * 3600 + offMinutes * 60);
  }
  if (sec < 0 || sec > MAX_TIME_SEC)
    throw new ExportRequestError(
      `"${param}" is out of range (1970 to 2100): "${value}".`,
      param,
      'invalid_parameter',
    );
  return sec;
}

/** Both ends parsed and checked: until after since, and the range not longer than allowed. */
export function parseExportRange(
  since: string,
  until: string,
  opts: { timezone: string; maxRangeDays: number },
): ExportRange {
  const sinceSec = parseTimeParam(since, 'since', opts.timezone);
  const untilSec = parseTimeParam(until, 'until', opts.timezone);
  if (untilSec <= sinceSec)
    throw new ExportRequestError(
      `"until" (${untilSec}) must be after "since" (${sinceSec}): the range is [since, until).`,
      'until',
      'invalid_range',
    );
  const maxSec = opts.maxRangeDays * DAY_SEC;
  if (untilSec - sinceSec > maxSec) {
    const days = Math.round(((untilSec - sinceSec) / DAY_SEC) * 10) / 10;
    throw new ExportRequestError(
      `The range is ${days} days long; one export covers at most ${opts.maxRangeDays} days: split it.`,
      'until',
      'invalid_range',
    );
  }
  return { sinceSec, untilSec };
}
