/**
 * The station model: counts of every station, advanced in fixed simulated steps.
 *
 * Per station and step (default 60 s), with local weekday/hour from the system's time zone:
 *   demand   = profile(weekday, hour)                       (profile.ts; a weekday averages 1)
 *   rentals  ~ Poisson(busyness × demand × (1 + 0.6·flow·role) × step/1h)
 *   returns  ~ Poisson(busyness × demand × (1 − 0.6·flow·role) × step/1h)
 * `flow` tilts demand so residential stations (role +1) empty in the morning and central ones
 * (role −1) fill, and the reverse in the evening. Rentals are capped by the rentable bikes, returns by
 * the free docks — an empty station cannot rent, a full one cannot take a bike, which is exactly
 * what makes quiet-but-healthy stations look like locked ones and must be modelled.
 * Riders prefer e-bikes (weight 2 when picking which bike leaves); returned bikes are electric with
 * the fleet share (40 %, close to Vélib's 39 % in the October 2025 snapshot). 0.5 % of returned bikes
 * come back broken (num_bikes_disabled); a mechanic removes one about every 8 h.
 * Rebalancing: between 06:00 and 22:00 a van visits a station below 10 % or above 90 % full with
 * probability step/3h per step and brings it to 40–60 % full (and takes broken bikes away), so the
 * network does not drain or clog forever.
 * Randomness: one mulberry32 stream per station (prng.ts), so faults at one station never change the
 * draws of another, and the state at time T depends only on (seed, stations, start, faults).
 */
import { FROZEN, NO_RENT, NO_RETURN, NO_VAN, type FaultBook } from './faults.js';
import { LocalClock } from '../activity/index.js';
import { RngBank } from './prng.js';
import { demandAt, flowAt, vansWorking } from './profile.js';
import type { SimStationDef } from './stations.js';

const FLOW_TILT = 0.6;
const EBIKE_PREFERENCE = 2;
const EBIKE_RETURN_SHARE = 0.4;
const BROKEN_ON_RETURN = 0.005;
const REPAIR_EVERY_SEC = 8 * 3600;
const VAN_EVERY_SEC = 3 * 3600;
/** A station reports at least every 30 min even when nothing moves (last_reported heartbeat). */
const HEARTBEAT_SEC = 1800;

export class SimModel {
  readonly count: number;
  readonly capacity: Int32Array;
  readonly mechanical: Int32Array;
  readonly electric: Int32Array;
  readonly bikesDisabled: Int32Array;
  readonly docksDisabled: Int32Array;
  readonly lastReportedSec: Float64Array;
  /** Time of the state, a multiple of stepSec. */
  timeSec: number;
  /** Steps taken; lets callers cache documents per state. */
  version = 0;

  private readonly busyness: Float64Array;
  private readonly role: Float64Array;
  private readonly open: Uint8Array; // installed, renting, returning all true
  private readonly rng: RngBank;
  private readonly clock: LocalClock;
  private readonly flags: Uint8Array;
  private readonly stuck: Int32Array;
  private readonly stuckElectric: Uint8Array;

  constructor(
    readonly stations: readonly SimStationDef[],
    seed: number,
    startSec: number,
    readonly stepSec: number,
    timezone: string,
    private readonly faults: FaultBook,
  ) {
    const n = stations.length;
    this.count = n;
    this.capacity = Int32Array.from(stations, (s) => s.capacity);
    this.mechanical = new Int32Array(n);
    this.electric = new Int32Array(n);
    this.bikesDisabled = new Int32Array(n);
    this.docksDisabled = new Int32Array(n);
    this.lastReportedSec = new Float64Array(n);
    this.busyness = Float64Array.from(stations, (s) => s.busyness);
    this.role = Float64Array.from(stations, (s) => s.role);
    this.open = Uint8Array.from(stations, (s) => (s.installed && s.renting && s.returning ? 1 : 0));
    this.rng = new RngBank(seed, n);
    this.clock = new LocalClock(timezone);
    this.flags = new Uint8Array(n);
    this.stuck = new Int32Array(n);
    this.stuckElectric = new Uint8Array(n);
    this.timeSec = Math.floor(startSec / stepSec) * stepSec;
    for (let i = 0; i < n; i++) this.initStation(i, stations[i] as SimStationDef);
  }

  private initStation(i: number, s: SimStationDef): void {
    const cap = s.capacity;
    let m: number, e: number, bd: number;
    if (s.initial) {
      ({ mechanical: m, electric: e, bikesDisabled: bd } = s.initial);
    } else {
      const fill = 0.2 + 0.6 * this.rng.uniform(i);
      const bikes = Math.round(fill * (cap - s.docksDisabled));
      e = Math.round(bikes * (0.25 + 0.3 * this.rng.uniform(i)));
      m = bikes - e;
      bd = this.rng.uniform(i) < 0.1 ? 1 : 0;
    }
    // Keep bikes + broken + disabled docks within capacity whatever the source file said.
    m = Math.max(0, Math.min(m, cap));
    e = Math.max(0, Math.min(e, cap - m));
    bd = Math.max(0, Math.min(bd, cap - m - e));
    this.mechanical[i] = m;
    this.electric[i] = e;
    this.bikesDisabled[i] = bd;
    this.docksDisabled[i] = Math.max(0, Math.min(s.docksDisabled, cap - m - e - bd));
    this.lastReportedSec[i] = this.timeSec - Math.floor(this.rng.uniform(i) * HEARTBEAT_SEC);
  }

  docksAvailable(i: number): number {
    return (
      (this.capacity[i] as number) -
      (this.mechanical[i] as number) -
      (this.electric[i] as number) -
      (this.bikesDisabled[i] as number) -
      (this.docksDisabled[i] as number)
    );
  }

  /** Advances whole steps while the next state time is ≤ `timeSec`. */
  advanceTo(timeSec: number): void {
    while (this.timeSec + this.stepSec <= timeSec) this.step();
  }

  step(): void {
    const t = this.timeSec;
    const local = this.clock.weekdayAndHour(t + this.stepSec / 2);
    const rate = demandAt(local.weekday, local.hour) * (this.stepSec / 3600);
    const tilt = FLOW_TILT * flowAt(local.weekday, local.hour);
    const vans = vansWorking(local.hour);
    const anyFault = this.faults.hasStationFaults();
    if (anyFault) {
      this.faults.applyStationMasks(t, this.flags, this.stuck, this.stuckElectric, (i, k, el) =>
        this.placeStuck(i, k, el),
      );
    }
    const next = t + this.stepSec;
    for (let i = 0; i < this.count; i++) {
      if (this.open[i] === 0) continue;
      const f = anyFault ? (this.flags[i] as number) : 0;
      if ((f & FROZEN) === 0 && this.moveStation(i, f, rate, tilt, vans)) {
        this.lastReportedSec[i] = next - Math.floor(this.rng.uniform(i) * this.stepSec);
      } else if (next - (this.lastReportedSec[i] as number) >= HEARTBEAT_SEC) {
        this.lastReportedSec[i] = next;
      }
    }
    this.timeSec = next;
    this.version++;
  }

  /** One step of one station; true when any count changed. */
  private moveStation(i: number, f: number, rate: number, tilt: number, vans: boolean): boolean {
    const rng = this.rng;
    const base = (this.busyness[i] as number) * rate;
    const r = this.role[i] as number;
    const wantRent = rng.poisson(i, base * (1 + tilt * r));
    const wantReturn = rng.poisson(i, base * (1 - tilt * r));
    let m = this.mechanical[i] as number;
    let e = this.electric[i] as number;
    let bd = this.bikesDisabled[i] as number;
    const m0 = m;
    const e0 = e;
    const bd0 = bd;
    if ((f & NO_RENT) === 0) {
      // Stuck bikes stay in the count but cannot leave.
      const k = this.stuck[i] as number;
      const stuckE = this.stuckElectric[i] === 1;
      for (let n = 0; n < wantRent; n++) {
        const freeM = stuckE ? m : m - k;
        const freeE = stuckE ? e - k : e;
        const wM = freeM > 0 ? freeM : 0;
        const wE = freeE > 0 ? EBIKE_PREFERENCE * freeE : 0;
        if (wM + wE === 0) break;
        if (rng.uniform(i) * (wM + wE) < wE) e--;
        else m--;
      }
    }
    if ((f & NO_RETURN) === 0) {
      let free = (this.capacity[i] as number) - m - e - bd - (this.docksDisabled[i] as number);
      for (let n = 0; n < wantReturn && free > 0; n++, free--) {
        const u = rng.uniform(i);
        if (u < BROKEN_ON_RETURN) bd++;
        else if (u < EBIKE_RETURN_SHARE) e++;
        else m++;
      }
    }
    if (bd > 0 && rng.uniform(i) < this.stepSec / REPAIR_EVERY_SEC) bd--;
    if (vans && (f & NO_VAN) === 0) {
      const usable = (this.capacity[i] as number) - (this.docksDisabled[i] as number);
      const fill = usable > 0 ? (m + e) / usable : 0.5;
      if ((fill < 0.1 || fill > 0.9) && usable > 0 && rng.uniform(i) < this.stepSec / VAN_EVERY_SEC) {
        const target = Math.round(usable * (0.4 + 0.2 * rng.uniform(i)));
        bd = 0;
        if (m + e > target) {
          // Take bikes away in proportion to the mix on the station.
          const takeE = Math.round(((m + e - target) * e) / (m + e));
          e -= takeE;
          m = target - e;
        } else {
          const add = target - m - e;
          const addE = Math.round(add * EBIKE_RETURN_SHARE);
          e += addE;
          m += add - addE;
        }
      }
    }
    this.mechanical[i] = m;
    this.electric[i] = e;
    this.bikesDisabled[i] = bd;
    return m !== m0 || e !== e0 || bd !== bd0;
  }

  /** Puts k stuck bikes of a type on a station that has fewer (into free docks, else replacing other bikes). */
  private placeStuck(i: number, k: number, electric: boolean): number {
    const usable =
      (this.capacity[i] as number) - (this.docksDisabled[i] as number) - (this.bikesDisabled[i] as number);
    const want = Math.min(k, Math.max(0, usable));
    const have = electric ? (this.electric[i] as number) : (this.mechanical[i] as number);
    if (have < want) {
      let need = want - have;
      const free = this.docksAvailable(i);
      const fromDocks = Math.min(need, free);
      need -= fromDocks;
      if (electric) {
        this.electric[i] = want;
        this.mechanical[i] = (this.mechanical[i] as number) - need;
      } else {
        this.mechanical[i] = want;
        this.electric[i] = (this.electric[i] as number) - need;
      }
    }
    return want;
  }
}
