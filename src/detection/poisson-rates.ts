/**
 * Learned usual rates of one direction (rentals or returns) for every station, per day type
 * (weekday / weekend) and local hour: 48 buckets. A rate is events per hour *of availability*
 * (hours with a bike to rent, resp. a free dock): an empty station cannot rent, a full one cannot
 * take returns, so those hours teach nothing (idea: the first direction; the censoring of
 * demand by availability is the standard issue in bike-share demand estimation, e.g. O'Mahony &
 * Shmoys 2015, "Data analysis and optimization for (Citi)bike sharing").
 *
 * Sparse stations are shrunk toward the system (empirical Bayes, gamma–Poisson: rate =
 * (events + k·prior) / (exposure + k), as in Clayton & Kaldor 1987): a bucket's prior is the
 * station's own level (itself shrunk toward the system's mean rate) times the system's shape for
 * that hour, so a new or quiet station is neither ignored nor judged on three data points.
 */
import { packF64, unpackF64 } from './poisson-math.js';
import type { PackReader, PackWriter } from './poisson-pack.js';

export const BUCKETS = 48;

/** Pseudo-hours of exposure that the prior weighs, per bucket and for the station level. */
const BUCKET_PRIOR_HOURS = 3;
const LEVEL_PRIOR_HOURS = 12;

/** Arrays as base64 Float64 (packF64), or plain numbers (checkpoints before the packing). */
export interface RateTableState {
  stations: number;
  n: string | number[];
  e: string | number[];
  stationN: string | number[];
  stationE: string | number[];
  sysN: string | number[];
  sysE: string | number[];
  sysTotalN: number;
  sysTotalE: number;
}

export class RateTable {
  /** Events and exposure hours, station-major: [station * 48 + bucket]. */
  private n: Float64Array;
  private e: Float64Array;
  private readonly sysN = new Float64Array(BUCKETS);
  private readonly sysE = new Float64Array(BUCKETS);
  private stationN: Float64Array;
  private stationE: Float64Array;
  private sysTotalN = 0;
  private sysTotalE = 0;
  private stations = 0;

  constructor(capacity = 1024) {
    this.n = new Float64Array(capacity * BUCKETS);
    this.e = new Float64Array(capacity * BUCKETS);
    this.stationN = new Float64Array(capacity);
    this.stationE = new Float64Array(capacity);
  }

  /** Make room for station index `i`. */
  ensure(i: number): void {
    if (i < this.stations) return;
    this.stations = i + 1;
    if (i < this.stationN.length) return;
    const cap = Math.max(this.stationN.length * 2, i + 1);
    const grow = (a: Float64Array, size: number) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.n = grow(this.n, cap * BUCKETS);
    this.e = grow(this.e, cap * BUCKETS);
    this.stationN = grow(this.stationN, cap);
    this.stationE = grow(this.stationE, cap);
  }

  addExposure(i: number, bucket: number, hours: number): void {
    this.e[i * BUCKETS + bucket]! += hours;
    this.stationE[i]! += hours;
    this.sysE[bucket]! += hours;
    this.sysTotalE += hours;
  }

  addEvents(i: number, bucket: number, count: number): void {
    this.n[i * BUCKETS + bucket]! += count;
    this.stationN[i]! += count;
    this.sysN[bucket]! += count;
    this.sysTotalN += count;
  }

  /** Expected events per available hour for station i in `bucket`. */
  rate(i: number, bucket: number): number {
    const sysMean = this.sysTotalE > 0 ? this.sysTotalN / this.sysTotalE : 0;
    const shape =
      this.sysE[bucket]! > 0 && sysMean > 0 ? this.sysN[bucket]! / this.sysE[bucket]! / sysMean : 1;
    const level = (this.stationN[i]! + LEVEL_PRIOR_HOURS * sysMean) / (this.stationE[i]! + LEVEL_PRIOR_HOURS);
    const prior = level * shape;
    const k = i * BUCKETS + bucket;
    return (this.n[k]! + BUCKET_PRIOR_HOURS * prior) / (this.e[k]! + BUCKET_PRIOR_HOURS);
  }

  /**
   * Shape of the gamma posterior of station i's level: its learned events (after forgetting) plus
   * the prior's pseudo-events. Few events = an uncertain rate (Gelman et al., Bayesian Data
   * Analysis, §2.6: the gamma–Poisson predictive is negative binomial with this shape).
   */
  evidenceEvents(i: number): number {
    const sysMean = this.sysTotalE > 0 ? this.sysTotalN / this.sysTotalE : 0;
    return this.stationN[i]! + LEVEL_PRIOR_HOURS * sysMean;
  }

  /**
   * Exponential forgetting, applied once a day, so that a station whose use changes (new
   * neighbourhood, season) is re-learned within weeks.
   */
  decay(factor: number): void {
    for (let k = 0; k < this.stations * BUCKETS; k++) {
      this.n[k]! *= factor;
      this.e[k]! *= factor;
    }
    for (let i = 0; i < this.stations; i++) {
      this.stationN[i]! *= factor;
      this.stationE[i]! *= factor;
    }
    for (let b = 0; b < BUCKETS; b++) {
      this.sysN[b]! *= factor;
      this.sysE[b]! *= factor;
    }
    this.sysTotalN *= factor;
    this.sysTotalE *= factor;
  }

  /** Every number as it is (totals included): a restored table computes bit-identical rates. */
  save(): RateTableState {
    const m = this.stations;
    return {
      stations: m,
      n: packF64(this.n.subarray(0, m * BUCKETS)),
      e: packF64(this.e.subarray(0, m * BUCKETS)),
      stationN: packF64(this.stationN.subarray(0, m)),
      stationE: packF64(this.stationE.subarray(0, m)),
      sysN: packF64(this.sysN),
      sysE: packF64(this.sysE),
      sysTotalN: this.sysTotalN,
      sysTotalE: this.sysTotalE,
    };
  }

  /** The same numbers as save(), as binary columns (checkpoint version 3). */
  pack(w: PackWriter): void {
    const m = this.stations;
    w.f64(Float64Array.of(m, this.sysTotalN, this.sysTotalE));
    w.f64(this.n.subarray(0, m * BUCKETS));
    w.f64(this.e.subarray(0, m * BUCKETS));
    w.f64(this.stationN.subarray(0, m));
    w.f64(this.stationE.subarray(0, m));
    w.f64(this.sysN);
    w.f64(this.sysE);
  }

  static unpack(r: PackReader): RateTable {
    const [m, sysTotalN, sysTotalE] = r.f64('rates header', 3) as unknown as [number, number, number];
    if (!Number.isSafeInteger(m) || m < 0) throw new Error(`poisson checkpoint: bad station count ${m}`);
    const t = new RateTable(Math.max(16, m));
    if (m > 0) t.ensure(m - 1);
    t.n.set(r.f64('rates n', m * BUCKETS));
    t.e.set(r.f64('rates e', m * BUCKETS));
    t.stationN.set(r.f64('rates stationN', m));
    t.stationE.set(r.f64('rates stationE', m));
    t.sysN.set(r.f64('rates sysN', BUCKETS));
    t.sysE.set(r.f64('rates sysE', BUCKETS));
    t.sysTotalN = sysTotalN;
    t.sysTotalE = sysTotalE;
    return t;
  }

  static restore(s: RateTableState): RateTable {
    const t = new RateTable(Math.max(16, s.stations));
    if (s.stations > 0) t.ensure(s.stations - 1);
    t.n.set(unpackF64(s.n));
    t.e.set(unpackF64(s.e));
    t.stationN.set(unpackF64(s.stationN));
    t.stationE.set(unpackF64(s.stationE));
    t.sysN.set(unpackF64(s.sysN));
    t.sysE.set(unpackF64(s.sysE));
    t.sysTotalN = s.sysTotalN;
    t.sysTotalE = s.sysTotalE;
    return t;
  }
}
