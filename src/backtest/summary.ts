/**
 * First pass over the real (un-injected) trace: how busy each station is, when it exists, and the
 * archive's span and time zone. Busyness stratifies the fault plan and splits the scores; it is
 * the backtest's ground truth only, never shown to a detector.
 */
import type { StationStatus, StatusDocument } from '../feed/model.js';
import type { StationSummary } from './faults.js';

interface Acc {
  events: number;
  observedSec: number;
  firstSeenSec: number;
  lastSeenSec: number;
  prev: StationStatus | null;
}

export class TraceSummary {
  startSec = Number.POSITIVE_INFINITY;
  endSec = Number.NEGATIVE_INFINITY;
  documents = 0;
  stationObservations = 0;
  private prevSec: number | null = null;
  private readonly acc = new Map<string, Acc>();
  private readonly intervals: number[] = [];

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
    for (const s of doc.stations) {
      this.stationObservations++;
      let a = this.acc.get(s.stationId);
      if (!a) {
        a = { events: 0, observedSec: 0, firstSeenSec: t, lastSeenSec: t, prev: null };
        this.acc.set(s.stationId, a);
      }
      a.lastSeenSec = t;
      const p = a.prev;
      if (p && seen && s.isInstalled) {
        a.observedSec += dt;
        // Rentals + returns as the diff sees them: net change per bike type.
        a.events +=
          Math.abs(s.bikes.mechanical - p.bikes.mechanical) +
          Math.abs(s.bikes.electric - p.bikes.electric) +
          Math.abs(s.bikes.other - p.bikes.other);
      }
      a.prev = s;
    }
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
