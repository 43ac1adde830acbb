/**
 * Local weekday and hour of a POSIX time in an IANA time zone, fast enough to call once per
 * simulated step: the UTC offset is computed with Intl once per UTC hour and cached (offsets only
 * change on hour boundaries in every zone we care about; DST transitions in Europe happen at 01:00 UTC).
 */
export interface LocalTime {
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  /** fractional hour of the local day, [0, 24) */
  hour: number;
}

export class LocalClock {
  private readonly format: Intl.DateTimeFormat;
  private cachedHour = Number.NaN;
  private cachedOffsetSec = 0;

  constructor(readonly timezone: string) {
    // Throws RangeError on an unknown zone: callers validate configuration with it.
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Seconds to add to UTC to get local wall-clock time. */
  offsetSec(timeSec: number): number {
    const hourIndex = Math.floor(timeSec / 3600);
    if (hourIndex !== this.cachedHour) {
      this.cachedHour = hourIndex;
      this.cachedOffsetSec = this.computeOffset(hourIndex * 3600);
    }
    return this.cachedOffsetSec;
  }

  at(timeSec: number): LocalTime {
    const local = timeSec + this.offsetSec(timeSec);
    const dayIndex = Math.floor(local / 86400);
    // 1970-01-01 was a Thursday (4).
    const weekday = (((dayIndex + 4) % 7) + 7) % 7;
    return { weekday, hour: (local - dayIndex * 86400) / 3600 };
  }

  private computeOffset(timeSec: number): number {
    const parts = this.format.formatToParts(new Date(timeSec * 1000));
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
    const asUtc = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return Math.round(asUtc / 1000 - timeSec);
  }
}
