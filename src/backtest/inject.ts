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
  /**
   * stuck_bikes: bikes of stuckType held so far (rises as they dock, up to k; never falls);
   * docks_blocked: broken free docks so far (rises as docks free up, up to k).
   */
  stuckHeld: number;
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
  /**
   * stuck_bikes: rentals of the pinned type the real trace had that the fault refused (the held
   * bikes could not leave); docks_blocked: returns refused. 0: the fault never showed.
   */
  readonly deniedEvents = new Map<number, number>();

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
        stuckHeld: 0,
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
      a.stuckHeld =
        a.fault.kind === 'docks_blocked'
          ? Math.min(a.fault.stuckBikes, start.docksAvailable)
          : Math.min(a.fault.stuckBikes, start[a.stuckType]);
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
      case 'docks_blocked': {
        // k free docks never take a bike (a broken lock the feed counts as free). Rentals happen as
        // in the real trace while bikes remain; returns only into the docks that work.
        for (const t of TYPES) {
          const rented = prev[t] - real[t];
          if (rented > 0) shown[t] -= Math.min(rented, shown[t]);
        }
        // Docks freed by rentals may be broken ones: blocked docks rise to k as they free up.
        a.stuckHeld = Math.min(a.fault.stuckBikes, Math.max(a.stuckHeld, a.slots - bikesOf(shown)));
        for (const t of TYPES) {
          const returned = real[t] - prev[t];
          if (returned <= 0) continue;
          const room = Math.max(0, a.slots - bikesOf(shown) - a.stuckHeld);
          const taken = Math.min(returned, room);
          shown[t] += taken;
          if (taken < returned)
            this.deniedEvents.set(a.fault.id, (this.deniedEvents.get(a.fault.id) ?? 0) + returned - taken);
        }
        shown.docksAvailable = a.slots - bikesOf(shown);
        break;
      }
      case 'stuck_bikes': {
        // The first k bikes of one type found or docked there never leave: the real trace, but never
        // below the bikes held so far. Bikes are never invented: a station with none of that type
        // holds none until one is returned (the first version showed k at once, a return that
        // never happened).
        const k = a.stuckType;
        const before = shown[k] - prev[k]; // bikes held beyond the real trace until now
        a.stuckHeld = Math.min(a.fault.stuckBikes, Math.max(a.stuckHeld, real[k]));
        Object.assign(shown, real);
        const extra = Math.max(0, a.stuckHeld - real[k]);
        if (extra > before)
          this.deniedEvents.set(a.fault.id, (this.deniedEvents.get(a.fault.id) ?? 0) + extra - before);
        shown[k] = real[k] + extra;
        // The held bikes take docks the real trace's returns of other bikes used: those returns
        // could not have happened (the station cannot hold more than it has slots).
        let docks = real.docksAvailable - extra;
        for (const t of TYPES) {
          if (docks >= 0) break;
          if (t === k) continue;
          const refused = Math.min(-docks, shown[t]);
          shown[t] -= refused;
          docks += refused;
        }
        shown.docksAvailable = Math.max(0, docks);
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
