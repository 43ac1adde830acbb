/**
 * Stuck bikes and blocked docks, for the `poisson` detector.
 *
 * - **Stuck bikes**: k bikes of one type (k = 1–3) that the station holds but nobody can take — a
 *   jammed dock lock, an e-bike with a dead battery the feed still counts as available. The count of
 *   that type then never falls below k, while the station keeps renting other bikes. Test: for each
 *   type T and level k, Λ = the T-rentals expected while the station held exactly k bikes of T, since
 *   it last held fewer than k. A normal station leaves level k by a rental sooner or later; a stuck
 *   one never does. The alarm needs Λ past the silence threshold *and* rentals of any type meanwhile
 *   (otherwise it is the whole station that is silent: `locked` or `rent_blocked` speak for it).
 * - **Blocked docks**: the mirror image: k docks the feed counts as free that never take a bike (a
 *   broken lock). Free docks never fall below k although returns keep happening.
 *
 * Per-type rental rates are learned like the station's (per day type × local hour, per hour of
 * availability of that type, shrunk toward the system: poisson-rates.ts). Idea: issue 5 ("bikes of a
 * type that never fall below some count for days while others are rented"); the level-k exit test
 * is new, the same sequential silence test as the lock's (Page's CUSUM for a rate that drops to 0).
 */
import type { BikeCounts, BikeType } from '../feed/model.js';
import { binnedHazard, packF64, unpackF64 } from './poisson-math.js';
import type { PackReader, PackWriter } from './poisson-pack.js';
import { RateTable, type RateTableState } from './poisson-rates.js';

export const STUCK_TYPES: readonly BikeType[] = ['mechanical', 'electric', 'other'];
/** Stuck bikes (or blocked docks) looked for: 1 to MAX_STUCK. */
export const MAX_STUCK = 3;
/** Rental (resp. return) occurrences of the station needed during the silence of level k. */
const MIN_OTHER_MOVES = 3;

const T = STUCK_TYPES.length;
const K = MAX_STUCK;

/** What one advance of the clock needs to know about the station and the system. */
export interface StuckStep {
  hours: number;
  bucket: number;
  /** System level (observed ÷ expected events). */
  level: number;
  /** Typical polls in this interval (binned hazard), or 0 for a plain Poisson mean. */
  pollsInInterval: number;
  canRent: boolean;
  canReturn: boolean;
  /** Availability factor by level 0..3 (the station's measured factors). */
  rentFactor: readonly number[];
  returnFactor: readonly number[];
  /** The station's return rate for this bucket (blocked docks reuse it). */
  returnRate: number;
}

export interface StuckState {
  v: 1;
  stations: number;
  counts: number[];
  docks: number[];
  lam: string;
  moves: string;
  since: string;
  stuck: number[];
  dockLam: string;
  dockMoves: string;
  dockSince: string;
  blocked: number[];
  tables: RateTableState[];
}

export class StuckWatch {
  private stations = 0;
  /** Per station × type: current count. */
  private counts = new Int32Array(0);
  private docks = new Int32Array(0);
  /** Per station × type × level (k − 1): expected T-rentals at level k since the count was < k. */
  private lam = new Float64Array(0);
  /** Rental occurrences (any type) at the station over the same span. */
  private moves = new Float64Array(0);
  /** When that span began (document time; 0: not yet observed). */
  private since = new Float64Array(0);
  /** Per station × type: the k flagged as stuck (0: none). */
  private stuck = new Int32Array(0);
  /** Per station × level: expected returns while exactly k docks were free, and returns meanwhile. */
  private dockLam = new Float64Array(0);
  private dockMoves = new Float64Array(0);
  private dockSince = new Float64Array(0);
  /** Per station: the k of blocked docks flagged (0: none). */
  private blocked = new Int32Array(0);
  /** Rentals of each type per hour with at least one bike of that type. */
  private tables: RateTable[] = STUCK_TYPES.map(() => new RateTable());

  ensure(i: number): void {
    if (i < this.stations) return;
    const n = i + 1;
    if (n > this.blocked.length) {
      const cap = Math.max(n, this.blocked.length * 2, 64);
      this.counts = growI(this.counts, cap * T);
      this.docks = growI(this.docks, cap);
      this.lam = growF(this.lam, cap * T * K);
      this.moves = growF(this.moves, cap * T * K);
      this.since = growF(this.since, cap * T * K);
      this.dockSince = growF(this.dockSince, cap * K);
      this.stuck = growI(this.stuck, cap * T);
      this.dockLam = growF(this.dockLam, cap * K);
      this.dockMoves = growF(this.dockMoves, cap * K);
      this.blocked = growI(this.blocked, cap);
    }
    for (const t of this.tables) t.ensure(i);
    this.stations = n;
  }

  /** New counts at `timeSec`: a level the station went below starts its silence afresh, and clears its alarm. */
  setCounts(i: number, bikes: BikeCounts, docks: number, timeSec: number): void {
    for (let t = 0; t < T; t++) {
      const c = bikes[STUCK_TYPES[t]!];
      this.counts[i * T + t] = c;
      for (let k = 1; k <= K; k++) {
        const j = (i * T + t) * K + k - 1;
        if (k > c) {
          this.lam[j] = 0;
          this.moves[j] = 0;
          this.since[j] = timeSec;
        } else if (this.since[j] === 0) this.since[j] = timeSec;
      }
      if (this.stuck[i * T + t]! > c) this.stuck[i * T + t] = 0;
    }
    this.docks[i] = docks;
    for (let k = 1; k <= K; k++) {
      const j = i * K + k - 1;
      if (k > docks) {
        this.dockLam[j] = 0;
        this.dockMoves[j] = 0;
        this.dockSince[j] = timeSec;
      } else if (this.dockSince[j] === 0) this.dockSince[j] = timeSec;
    }
    if (this.blocked[i]! > docks) this.blocked[i] = 0;
  }

  /** A rental occurrence of `type` (first of its type in this document: `learn`). */
  onRent(i: number, type: BikeType, bucket: number, learn: boolean): void {
    const t = STUCK_TYPES.indexOf(type);
    // Under a stuck alarm of this type nothing is learned (its exposure is not counted either).
    if (learn && this.stuck[i * T + t] === 0) this.tables[t]!.addEvents(i, bucket, 1);
    const base = i * T * K;
    for (let j = 0; j < T * K; j++) this.moves[base + j]! += 1;
  }

  onReturn(i: number): void {
    for (let k = 0; k < K; k++) this.dockMoves[i * K + k]! += 1;
  }

  /** The feed declared a problem, or the station went away: every silence starts again. */
  reset(i: number, timeSec: number): void {
    this.lam.fill(0, i * T * K, (i + 1) * T * K);
    this.moves.fill(0, i * T * K, (i + 1) * T * K);
    this.since.fill(timeSec, i * T * K, (i + 1) * T * K);
    this.dockSince.fill(timeSec, i * K, (i + 1) * K);
    this.stuck.fill(0, i * T, (i + 1) * T);
    this.dockLam.fill(0, i * K, (i + 1) * K);
    this.dockMoves.fill(0, i * K, (i + 1) * K);
    this.blocked[i] = 0;
  }

  /** Integrates the interval just ended (rates of `step.bucket`). */
  advance(i: number, step: StuckStep): void {
    const scale = (m: number): number => {
      if (step.pollsInInterval <= 0) return m * step.level;
      const p = step.pollsInInterval;
      return binnedHazard((m * step.level) / p) * p;
    };
    if (step.canRent) {
      for (let t = 0; t < T; t++) {
        const c = this.counts[i * T + t]!;
        if (c <= 0) continue;
        const table = this.tables[t]!;
        const f = step.rentFactor[c < 3 ? c : 3]!;
        // Time under a stuck alarm of this type teaches nothing about its usual rate.
        if (this.stuck[i * T + t] === 0) table.addExposure(i, step.bucket, step.hours * f);
        if (c <= K) this.lam[(i * T + t) * K + c - 1]! += scale(table.rate(i, step.bucket) * step.hours * f);
      }
    }
    const d = this.docks[i]!;
    if (step.canReturn && d > 0 && d <= K)
      this.dockLam[i * K + d - 1]! += scale(step.returnRate * step.hours * step.returnFactor[d]!);
  }

  /**
   * Raises the alarms whose silence passed the caller's threshold: `minLambda` (the smallest one) is
   * checked first, then `bikeThreshold(learned events of the type)` / `dockThreshold()` (the test
   * widened by the rate's uncertainty, like the station's own).
   */
  check(
    i: number,
    minLambda: number,
    bikeThreshold: (learnedEvents: number) => number,
    dockThreshold: () => number,
  ): void {
    for (let t = 0; t < T; t++) {
      if (this.stuck[i * T + t] !== 0) continue;
      const c = this.counts[i * T + t]!;
      if (c <= 0 || c > K) continue;
      const j = (i * T + t) * K + c - 1;
      if (this.moves[j]! < MIN_OTHER_MOVES || this.lam[j]! <= minLambda) continue;
      if (this.lam[j]! > bikeThreshold(this.tables[t]!.evidenceEvents(i))) this.stuck[i * T + t] = c;
    }
    const d = this.docks[i]!;
    if (this.blocked[i] === 0 && d > 0 && d <= K) {
      const j = i * K + d - 1;
      if (
        this.dockMoves[j]! >= MIN_OTHER_MOVES &&
        this.dockLam[j]! > minLambda &&
        this.dockLam[j]! > dockThreshold()
      )
        this.blocked[i] = d;
    }
  }

  hasStuckBikes(i: number): boolean {
    return this.stuckTypes(i) > 0;
  }

  hasBlockedDocks(i: number): boolean {
    return this.blocked[i]! > 0;
  }

  /** Bikes flagged as stuck at station i (all types). */
  stuckTypes(i: number): number {
    let n = 0;
    for (let t = 0; t < T; t++) n += this.stuck[i * T + t]!;
    return n;
  }

  /**
   * Evidence of the alarm: the largest silence behind a flag (bikes or docks) and when the oldest
   * one began (the station last held fewer bikes of that type, or fewer free docks).
   */
  evidence(i: number): { stuckBikes: number; blockedDocks: number; expectedExits: number; sinceSec: number } {
    let expectedExits = 0;
    let sinceSec = Number.POSITIVE_INFINITY;
    for (let t = 0; t < T; t++) {
      const k = this.stuck[i * T + t]!;
      if (k === 0) continue;
      const j = (i * T + t) * K + k - 1;
      expectedExits = Math.max(expectedExits, this.lam[j]!);
      sinceSec = Math.min(sinceSec, this.since[j]!);
    }
    const b = this.blocked[i]!;
    if (b > 0) {
      expectedExits = Math.max(expectedExits, this.dockLam[i * K + b - 1]!);
      sinceSec = Math.min(sinceSec, this.dockSince[i * K + b - 1]!);
    }
    return { stuckBikes: this.stuckTypes(i), blockedDocks: b, expectedExits, sinceSec };
  }

  decay(factor: number): void {
    for (const t of this.tables) t.decay(factor);
  }

  save(): StuckState {
    const n = this.stations;
    return {
      v: 1,
      stations: n,
      counts: Array.from(this.counts.subarray(0, n * T)),
      docks: Array.from(this.docks.subarray(0, n)),
      lam: packF64(this.lam.subarray(0, n * T * K)),
      moves: packF64(this.moves.subarray(0, n * T * K)),
      since: packF64(this.since.subarray(0, n * T * K)),
      stuck: Array.from(this.stuck.subarray(0, n * T)),
      dockLam: packF64(this.dockLam.subarray(0, n * K)),
      dockMoves: packF64(this.dockMoves.subarray(0, n * K)),
      dockSince: packF64(this.dockSince.subarray(0, n * K)),
      blocked: Array.from(this.blocked.subarray(0, n)),
      tables: this.tables.map((t) => t.save()),
    };
  }

  /** The same numbers as save(), as binary columns (checkpoint version 3). */
  pack(w: PackWriter): void {
    const n = this.stations;
    w.i32(Int32Array.of(n));
    w.i32(this.counts.subarray(0, n * T));
    w.i32(this.docks.subarray(0, n));
    w.f64(this.lam.subarray(0, n * T * K));
    w.f64(this.moves.subarray(0, n * T * K));
    w.f64(this.since.subarray(0, n * T * K));
    w.i32(this.stuck.subarray(0, n * T));
    w.f64(this.dockLam.subarray(0, n * K));
    w.f64(this.dockMoves.subarray(0, n * K));
    w.f64(this.dockSince.subarray(0, n * K));
    w.i32(this.blocked.subarray(0, n));
    for (const t of this.tables) t.pack(w);
  }

  static unpack(r: PackReader): StuckWatch {
    const n = r.i32('stuck header', 1)[0]!;
    const w = new StuckWatch();
    if (n > 0) w.ensure(n - 1);
    w.counts.set(r.i32('stuck counts', n * T));
    w.docks.set(r.i32('stuck docks', n));
    w.lam.set(r.f64('stuck lam', n * T * K));
    w.moves.set(r.f64('stuck moves', n * T * K));
    w.since.set(r.f64('stuck since', n * T * K));
    w.stuck.set(r.i32('stuck flags', n * T));
    w.dockLam.set(r.f64('stuck dockLam', n * K));
    w.dockMoves.set(r.f64('stuck dockMoves', n * K));
    w.dockSince.set(r.f64('stuck dockSince', n * K));
    w.blocked.set(r.i32('stuck blocked', n));
    w.tables = STUCK_TYPES.map(() => RateTable.unpack(r));
    for (const t of w.tables) if (n > 0) t.ensure(n - 1);
    return w;
  }

  static restore(s: StuckState): StuckWatch {
    const w = new StuckWatch();
    if (s.stations > 0) w.ensure(s.stations - 1);
    w.counts.set(s.counts);
    w.docks.set(s.docks);
    w.lam.set(unpackF64(s.lam));
    w.moves.set(unpackF64(s.moves));
    w.since.set(unpackF64(s.since));
    w.stuck.set(s.stuck);
    w.dockLam.set(unpackF64(s.dockLam));
    w.dockMoves.set(unpackF64(s.dockMoves));
    w.dockSince.set(unpackF64(s.dockSince));
    w.blocked.set(s.blocked);
    w.tables = s.tables.map((t) => RateTable.restore(t));
    for (const t of w.tables) if (s.stations > 0) t.ensure(s.stations - 1);
    return w;
  }
}

function growF(a: Float64Array<ArrayBuffer>, size: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

function growI(a: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
