/**
 * The faults of a running simulation: their time windows, their status, and the per-step view the
 * model needs (which stations may not rent, may not take returns, hold stuck bikes).
 * The list (with ended and cleared faults) is the ground truth that end-to-end tests and the
 * backtest compare alarms with.
 */
import { FaultSpecError, type FaultSpec, type SimFeed } from './fault-spec.js';
import type { SimStationDef } from './stations.js';

export type FaultStatus = 'pending' | 'active' | 'ended' | 'cleared';

/** A fault as listed by GET /control/state. */
export interface FaultView {
  id: string;
  kind: FaultSpec['kind'];
  status: FaultStatus;
  startSec: number;
  /** Exclusive end; null while open-ended. Set to the clearing time when cleared early. */
  endSec: number | null;
  stationId?: string;
  code?: string;
  count?: number;
  bikeType?: 'mechanical' | 'electric';
  mode?: string;
  feeds?: SimFeed[];
  /** malformed: responses still to spoil / already spoiled. */
  requestsLeft?: number;
  requestsServed?: number;
  /** frozen_timestamp: the last_updated served while it lasts. */
  frozenAtSec?: number;
}

interface FaultRecord {
  view: FaultView;
  stationIndex: number;
  cleared: boolean;
  /** stuck_bikes: the station was topped up to `count` bikes when the fault began. */
  activated: boolean;
}

/** Per-station restriction bits, combined when several faults hit one station. */
export const NO_RENT = 1;
export const NO_RETURN = 2;
/** Counts frozen: no repairs, no vans either. */
export const FROZEN = 4;
/** Any fault: rebalancing vans keep away, so that the fault's promise (e.g. "never loses bikes") holds. */
export const NO_VAN = 8;

export class FaultBook {
  private readonly records: FaultRecord[] = [];
  private nextId = 1;
  private readonly indexById = new Map<string, number>();
  private readonly indexByCode = new Map<string, number>();

  constructor(
    private readonly stations: readonly SimStationDef[],
    private readonly stepSec: number,
  ) {
    stations.forEach((s, i) => {
      this.indexById.set(s.stationId, i);
      if (!this.indexByCode.has(s.code)) this.indexByCode.set(s.code, i);
    });
  }

  /** Registers a fault; it cannot start before `nowSec` (the past is already simulated). */
  add(spec: FaultSpec, nowSec: number): string {
    let stationIndex = -1;
    if ('stationId' in spec) {
      stationIndex = this.indexById.get(spec.stationId) ?? this.indexByCode.get(spec.stationId) ?? -1;
      if (stationIndex < 0)
        throw new FaultSpecError(`unknown station "${spec.stationId}" (give a station_id or code)`);
    }
    const wanted = spec.startSec ?? nowSec + (spec.startInSec ?? 0);
    const startSec = Math.ceil(Math.max(wanted, nowSec));
    const id = `f${this.nextId++}`;
    const view: FaultView = {
      id,
      kind: spec.kind,
      status: 'pending',
      startSec,
      endSec: spec.durationSec === undefined ? null : startSec + Math.round(spec.durationSec),
    };
    const st = this.stations[stationIndex];
    if (st) Object.assign(view, { stationId: st.stationId, code: st.code });
    if (spec.kind === 'stuck_bikes') {
      if (st && spec.count > st.capacity) {
        throw new FaultSpecError(
          `stuck_bikes count ${spec.count} exceeds capacity ${st.capacity} of ${st.stationId}`,
        );
      }
      Object.assign(view, { count: spec.count, bikeType: spec.bikeType ?? 'mechanical' });
    }
    if (spec.kind === 'outage') view.mode = spec.mode ?? 'http_503';
    if (spec.kind === 'malformed') {
      Object.assign(view, { mode: spec.mode ?? 'mixed', feeds: spec.feeds ?? ['station_status'] });
      Object.assign(view, { requestsLeft: spec.requests ?? 1, requestsServed: 0 });
    }
    if (spec.kind === 'frozen_timestamp') {
      Object.assign(view, { feeds: spec.feeds ?? ['station_status'] });
      view.frozenAtSec = Math.floor(startSec / this.stepSec) * this.stepSec;
    }
    this.records.push({ view, stationIndex, cleared: false, activated: false });
    return id;
  }

  /** Ends a fault now. False when unknown, already cleared or already over. */
  clear(id: string, nowSec: number): boolean {
    const r = this.records.find((x) => x.view.id === id);
    if (!r || r.cleared || this.statusOf(r, nowSec) === 'ended') return false;
    r.cleared = true;
    const now = Math.floor(nowSec);
    r.view.endSec =
      r.view.endSec === null
        ? Math.max(now, r.view.startSec)
        : Math.min(r.view.endSec, Math.max(now, r.view.startSec));
    return true;
  }

  list(nowSec: number): FaultView[] {
    return this.records.map((r) => ({ ...r.view, status: this.statusOf(r, nowSec) }));
  }

  private statusOf(r: FaultRecord, t: number): FaultStatus {
    if (r.cleared) return 'cleared';
    if (t < r.view.startSec) return 'pending';
    if (r.view.endSec !== null && t >= r.view.endSec) return 'ended';
    if (r.view.requestsLeft === 0) return 'ended';
    return 'active';
  }

  private activeAt(r: FaultRecord, t: number): boolean {
    return t >= r.view.startSec && (r.view.endSec === null || t < r.view.endSec) && r.view.requestsLeft !== 0;
  }

  /** True when some station fault exists at all: lets the model skip mask work in the common case. */
  hasStationFaults(): boolean {
    return this.records.some((r) => r.stationIndex >= 0);
  }

  /**
   * Fills the restriction masks for the step starting at `timeSec`. `onStuckStart` is called once per
   * stuck_bikes fault, when it first applies, for the model to put the stuck bikes in place.
   */
  applyStationMasks(
    timeSec: number,
    flags: Uint8Array,
    stuck: Int32Array,
    stuckElectric: Uint8Array,
    onStuckStart: (stationIndex: number, count: number, electric: boolean) => number,
  ): void {
    flags.fill(0);
    stuck.fill(0);
    for (const r of this.records) {
      const i = r.stationIndex;
      if (i < 0 || !this.activeAt(r, timeSec)) continue;
      let f = NO_VAN;
      if (r.view.kind === 'locked') f |= NO_RENT | NO_RETURN | FROZEN;
      else if (r.view.kind === 'rent_only_lock') f |= NO_RENT;
      else if (r.view.kind === 'return_only_lock') f |= NO_RETURN;
      else if (r.view.kind === 'stuck_bikes') {
        const electric = r.view.bikeType === 'electric';
        if (!r.activated) {
          r.activated = true;
          r.view.count = onStuckStart(i, r.view.count ?? 0, electric);
        }
        // Several stuck faults on one station add up (all counted in the type of the last one).
        stuck[i] = (stuck[i] as number) + (r.view.count ?? 0);
        stuckElectric[i] = electric ? 1 : 0;
      }
      flags[i] = (flags[i] as number) | f;
    }
  }

  /** The outage in force at `nowSec`, if any. */
  outageAt(nowSec: number): FaultView | null {
    for (const r of this.records)
      if (r.view.kind === 'outage' && !r.cleared && this.activeAt(r, nowSec)) return r.view;
    return null;
  }

  /** The frozen last_updated for `feed` at `timeSec`, or null when time flows. */
  frozenAt(feed: SimFeed, timeSec: number): number | null {
    for (const r of this.records) {
      if (
        r.view.kind === 'frozen_timestamp' &&
        !r.cleared &&
        this.activeAt(r, timeSec) &&
        r.view.feeds?.includes(feed)
      ) {
        return r.view.frozenAtSec ?? null;
      }
    }
    return null;
  }

  /** If a malformed fault applies to this response, consumes one of its requests and returns its mode. */
  takeMalformed(feed: SimFeed, nowSec: number): { mode: string; serial: number } | null {
    for (const r of this.records) {
      const v = r.view;
      if (v.kind !== 'malformed' || r.cleared || !this.activeAt(r, nowSec) || !v.feeds?.includes(feed))
        continue;
      v.requestsLeft = (v.requestsLeft ?? 1) - 1;
      v.requestsServed = (v.requestsServed ?? 0) + 1;
      return { mode: v.mode ?? 'mixed', serial: v.requestsServed };
    }
    return null;
  }
}
