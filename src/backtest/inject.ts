/**
 * Rewrites a stream of normalised `StatusDocument`s as the feed would have looked had the planned
 * faults happened. Working on the normalised model makes it feed-format agnostic (GBFS 1.x–3.x,
 * Vélib', Lyft). The flags of a faulty station stay "OK": detection must come from behaviour.
 */
import type { BikeCounts, BikeType, StationStatus, StatusDocument } from '../feed/model.js';
import { stuckTypeOf, type Fault, type OutageFault, type StationFault } from './faults.js';

interface Counts {
  mechanical: number;
  electric: number;
  other: number;
  docksAvailable: number;
  bikesDisabled: number;
  docksDisabled: number;
}

interface Active {
  fault: StationFault;
  /** What the feed shows (simulated). */
  shown: Counts;
  /** Bikes + free docks when the fault began: the simulated station never holds more. */
  slots: number;
  /** The real trace's previous counts: its increases are returns, its decreases rentals. */
  prevReal: Counts | null;
  stuckType: BikeType;
}

const TYPES: readonly BikeType[] = ['mechanical', 'electric', 'other'];

function countsOf(s: StationStatus): Counts {
  return {
    mechanical: s.bikes.mechanical,
    electric: s.bikes.electric,
    other: s.bikes.other,
    docksAvailable: s.docksAvailable,
    bikesDisabled: s.bikesDisabled,
    docksDisabled: s.docksDisabled,
  };
}

const bikesOf = (c: Counts | BikeCounts): number => c.mechanical + c.electric + c.other;

export interface InjectionStats {
  documentsDropped: number;
  stationObservationsRewritten: number;
}

export class FaultInjector {
  private readonly pending: StationFault[];
  private readonly outages: OutageFault[];
  private next = 0;
  private readonly active = new Map<string, Active>();
  /** Last real status of every station that has a fault still to come (to freeze it at the start). */
  private readonly lastReal = new Map<string, Counts>();
  private readonly watched = new Set<string>();
  readonly stats: InjectionStats = { documentsDropped: 0, stationObservationsRewritten: 0 };
  /** Bikes the real trace moved at each fault's station during its window (fault id → bikes). */
  readonly realEvents = new Map<number, number>();

  constructor(faults: readonly Fault[]) {
    this.pending = faults
      .filter((f): f is StationFault => f.kind !== 'outage')
      .sort((a, b) => a.startSec - b.startSec);
    this.outages = faults
      .filter((f): f is OutageFault => f.kind === 'outage')
      .sort((a, b) => a.startSec - b.startSec);
    for (const f of this.pending) this.watched.add(f.stationId);
  }

  /**
   * Rewrites `doc` in place and returns it, or returns null when an outage hides it.
   * Documents must come in time order.
   */
  apply(doc: StatusDocument): StatusDocument | null {
    const t = doc.lastUpdatedSec;
    for (const o of this.outages) {
      if (o.startSec <= t && t < o.endSec) {
        this.stats.documentsDropped++;
        return null;
      }
    }
    for (const [id, a] of this.active) if (t >= a.fault.endSec) this.active.delete(id);
    while (this.next < this.pending.length && this.pending[this.next]!.startSec <= t) {
      const f = this.pending[this.next++]!;
      if (t >= f.endSec) continue; // no document fell inside this fault
      this.active.set(f.stationId, {
        fault: f,
        shown: null!,
        slots: 0,
        prevReal: null,
        stuckType: 'mechanical',
      });
    }
    if (this.active.size === 0 && this.watched.size === 0) return doc;
    for (const s of doc.stations) {
      if (!this.watched.has(s.stationId)) continue;
      const a = this.active.get(s.stationId);
      if (a) this.rewrite(a, s);
      else this.lastReal.set(s.stationId, countsOf(s));
    }
    return doc;
  }

  private rewrite(a: Active, s: StationStatus): void {
    const real = countsOf(s);
    if (a.shown === null) {
      // The fault begins in the state the station had just before it (or now, if never seen).
      const start = this.lastReal.get(s.stationId) ?? real;
      a.shown = { ...start };
      a.slots = bikesOf(start) + start.docksAvailable;
      a.prevReal = start;
      a.stuckType = stuckTypeOf(start);
    }
    const prev = a.prevReal!;
    const shown = a.shown;
    const moved =
      Math.abs(real.mechanical - prev.mechanical) +
      Math.abs(real.electric - prev.electric) +
      Math.abs(real.other - prev.other);
    this.realEvents.set(a.fault.id, (this.realEvents.get(a.fault.id) ?? 0) + moved);
    switch (a.fault.kind) {
      case 'locked':
        break; // everything frozen
      case 'rent_blocked':
        // Bikes cannot leave: only the real trace's returns reach the station, while docks remain.
        for (const k of TYPES) {
          const returned = real[k] - prev[k];
          if (returned > 0) shown[k] += Math.min(returned, a.slots - bikesOf(shown));
        }
        shown.docksAvailable = a.slots - bikesOf(shown);
        break;
      case 'return_blocked':
        // Bikes cannot be docked: only the real trace's rentals happen, while bikes remain.
        for (const k of TYPES) {
          const rented = prev[k] - real[k];
          if (rented > 0) shown[k] -= Math.min(rented, shown[k]);
        }
        shown.docksAvailable = a.slots - bikesOf(shown);
        break;
      case 'stuck_bikes': {
        // k bikes of one type never leave: the real trace, but never below k of that type.
        const k = a.stuckType;
        Object.assign(shown, real);
        const extra = Math.max(0, a.fault.stuckBikes - real[k]);
        shown[k] = real[k] + extra;
        shown.docksAvailable = Math.max(0, real.docksAvailable - extra);
        break;
      }
    }
    a.prevReal = real;
    s.bikes.mechanical = shown.mechanical;
    s.bikes.electric = shown.electric;
    s.bikes.other = shown.other;
    s.docksAvailable = shown.docksAvailable;
    s.bikesDisabled = shown.bikesDisabled;
    s.docksDisabled = shown.docksDisabled;
    s.isInstalled = true;
    s.isRenting = true;
    s.isReturning = true;
    this.stats.stationObservationsRewritten++;
  }

  /** The pinned bike type of a running stuck_bikes fault (for reports and tests). */
  stuckTypeFor(stationId: string): BikeType | null {
    const a = this.active.get(stationId);
    return a && a.fault.kind === 'stuck_bikes' && a.shown ? a.stuckType : null;
  }
}
