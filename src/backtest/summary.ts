/**
 * First pass over the real (un-injected) trace: how busy each station is, when it exists, and the
 * archive's span and time zone. Busyness stratifies the fault plan and splits the scores; it is
 * the backtest's ground truth only, never shown to a detector.
 */
import { localDaySlot } from '../activity/index.js';
import type { StationStatus, StatusDocument } from '../feed/model.js';
import type { StationSummary } from './faults.js';

/** Day type (weekday / weekend) × local hour. */
const BUCKETS = 48;

interface Acc {
  events: number;
  observedSec: number;
  firstSeenSec: number;
  lastSeenSec: number;
  prev: StationStatus | null;
  /** Events (bikes moved) and observed seconds per bucket: the station's real time-of-day profile. */
  bucketEvents: Float64Array;
  bucketSec: Float64Array;
}

/** What the real trace says a fault window should have seen. */
export interface WindowExpectation {
  /** Events (rentals + returns, bikes) the station usually sees over the window, from its profile. */
  expectedEvents: number;
  /** When the expected count since the start first reaches 1: before it, no detector can know. */
  firstExpectedSec: number | null;
}

export class TraceSummary {
  startSec = Number.POSITIVE_INFINITY;
  endSec = Number.NEGATIVE_INFINITY;
  documents = 0;
  stationObservations = 0;
  private prevSec: number | null = null;
  private readonly acc = new Map<string, Acc>();
  private readonly intervals: number[] = [];

  /**
   * The system's zone, for the time-of-day profile (set it as soon as system_information is read).
   * Why a profile: a station's all-day average hides that it is busy by day and silent by night,
   * and a lock at night cannot be seen before the morning.
   */
  timeZone = 'UTC';

  constructor(private readonly gapThresholdSec: number) {}

  /** Documents in time order. Only intervals shorter than the gap threshold count as observed. */
  add(doc: StatusDocument): void {
    const t = doc.lastUpdatedSec;
    if (this.prevSec !== null && t <= this.prevSec) return;
    const dt = this.prevSec === null ? null : t - this.prevSec;
    if (dt !== null) this.intervals.push(dt);
    const seen = dt !== null && dt <= this.gapThresholdSec;
    this.prevSec = t;
    this.documents++;
    if (t < this.startSec) this.startSec = t;
    if (t > this.endSec) this.endSec = t;
    const bucket = seen ? bucketOf(t, this.timeZone) : 0;
    for (const s of doc.stations) {
      this.stationObservations++;
      let a = this.acc.get(s.stationId);
      if (!a) {
        a = {
          events: 0,
          observedSec: 0,
          firstSeenSec: t,
          lastSeenSec: t,
          prev: null,
          bucketEvents: new Float64Array(BUCKETS),
          bucketSec: new Float64Array(BUCKETS),
        };
        this.acc.set(s.stationId, a);
      }
      a.lastSeenSec = t;
      const p = a.prev;
      if (p && seen && s.isInstalled) {
        a.observedSec += dt;
        // Rentals + returns as the diff sees them: net change per bike type.
        const moved =
          Math.abs(s.bikes.mechanical - p.bikes.mechanical) +
          Math.abs(s.bikes.electric - p.bikes.electric) +
          Math.abs(s.bikes.other - p.bikes.other);
        a.events += moved;
        a.bucketEvents[bucket]! += moved;
        a.bucketSec[bucket]! += dt;
      }
      a.prev = s;
    }
  }

  /**
   * Expected events of a station over [fromSec, toSec) from its own profile (day type × local hour,
   * the whole trace), integrated in ten-minute steps.
   */
  expectWindow(stationId: string, fromSec: number, toSec: number): WindowExpectation {
    const a = this.acc.get(stationId);
    let expected = 0;
    let first: number | null = null;
    if (!a) return { expectedEvents: 0, firstExpectedSec: null };
    for (let t = fromSec; t < toSec; t += 600) {
      const step = Math.min(600, toSec - t);
      const b = bucketOf(t, this.timeZone);
      const sec = a.bucketSec[b]!;
      if (sec > 0) expected += (a.bucketEvents[b]! / sec) * step;
      if (first === null && expected >= 1) first = t + step;
    }
    return { expectedEvents: expected, firstExpectedSec: first };
  }

  /** Median interval between documents (the replay's gap threshold is three times it). */
  medianIntervalSec(): number | null {
    if (this.intervals.length === 0) return null;
    const sorted = [...this.intervals].sort((a, b) => a - b);
    return sorted[sorted.length >> 1]!;
  }

  /** Stations observed for at least `minObservedSec` (default one day). */
  stations(minObservedSec = 86_400): StationSummary[] {
    const out: StationSummary[] = [];
    for (const [stationId, a] of this.acc) {
      if (a.observedSec < minObservedSec) continue;
      out.push({
        stationId,
        eventsPerHour: a.events / (a.observedSec / 3600),
        firstSeenSec: a.firstSeenSec,
        lastSeenSec: a.lastSeenSec,
      });
    }
    return out.sort((x, y) => (x.stationId < y.stationId ? -1 : x.stationId > y.stationId ? 1 : 0));
  }
}

function bucketOf(timeSec: number, timeZone: string): number {
  const { slot, weekday } = localDaySlot(timeSec, timeZone);
  return (weekday === 0 || weekday === 6 ? 24 : 0) + Math.floor(slot / 6);
}
