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
export const BUCKETS = 48;

/** Pseudo-hours of exposure that the prior weighs, per bucket and for the station level. */
const BUCKET_PRIOR_HOURS = 3;
const LEVEL_PRIOR_HOURS = 12;

export interface RateTableState {
  stations: number;
  n: number[];
  e: number[];
  stationN: number[];
  stationE: number[];
  sysN: number[];
  sysE: number[];
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
      n: Array.from(this.n.subarray(0, m * BUCKETS)),
      e: Array.from(this.e.subarray(0, m * BUCKETS)),
      stationN: Array.from(this.stationN.subarray(0, m)),
      stationE: Array.from(this.stationE.subarray(0, m)),
      sysN: Array.from(this.sysN),
      sysE: Array.from(this.sysE),
      sysTotalN: this.sysTotalN,
      sysTotalE: this.sysTotalE,
    };
  }

  static restore(s: RateTableState): RateTable {
    const t = new RateTable(Math.max(16, s.stations));
    if (s.stations > 0) t.ensure(s.stations - 1);
    t.n.set(s.n);
    t.e.set(s.e);
    t.stationN.set(s.stationN);
    t.stationE.set(s.stationE);
    t.sysN.set(s.sysN);
    t.sysE.set(s.sysE);
    t.sysTotalN = s.sysTotalN;
    t.sysTotalE = s.sysTotalE;
    return t;
  }
}
