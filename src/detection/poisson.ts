/**
 * `poisson`: flags a station when its silence is very unlikely given how it is usually used.
 *
 * - Rentals and returns are two count processes, each with its own learned rate per station, day type
 *   and local hour (poisson-rates.ts). Rentals are expected only while a bike is there and returns
 *   only while a dock is free, scaled down when just one or two are (measured on Bay Wheels, April
 *   2023: with one bike the rental rate is 0.65× that with three or more, with one free dock the
 *   return rate is 0.75×).
 * - Expected counts are scaled by today's system-wide level: the ratio of the system's observed to
 *   expected events over the last hours (exponentially weighted), so that holidays, rain and
 *   system-wide dips raise no alarm at every station at once.
 * - The silence test: P(no event | expected Λ) under a negative binomial (gamma–Poisson,
 *   over-dispersed: day-to-day demand varies far more than Poisson), P0 = (1 + Λ/κ)^−κ. An alarm
 *   when P0 < `alarmP`, with confidence 1 − P0. Three tests: no activity at all → `locked`, no rental
 *   → `rent_blocked`, no return → `return_blocked`. For a lock (rate → 0) this *is* Page's CUSUM
 *   (1954) of the rate: the log-likelihood ratio grows by the expected count while silent and any
 *   event sends it to −∞, so "Λ since the last event > threshold" is the sequential test itself.
 * - Λ is counted in polls, not in a Poisson mean: rates are learned as occurrences per poll, and a
 *   silent poll of a station that moves in half of its polls weighs −ln ½ (binnedHazard).
 * - κ per station: 1/κ = 1/κ0 + 1/a, a = the station's learned events (rate uncertainty).
 * - Hysteresis: entering needs P0 < alarmP; leaving needs activity in the blocked direction (any
 *   activity for `locked`, whose cause is usually the whole station). No state flaps on noise.
 * - Blind time (feed_gap) counts neither as exposure nor as silence; time under an alarm teaches
 *   nothing (a long real lock must not become the station's "usual").
 */
import type { LoggedEvent } from '../events/types.js';
import { binnedHazard, localBucket, silenceP, silenceThreshold } from './poisson-math.js';
import { RateTable, type RateTableState } from './poisson-rates.js';
import type { ActivityView, DetectedState, Detector, Evidence, StateChange } from './types.js';

export interface PoissonOptions {
  system: string;
  minHistoryDays: number;
  /** Detector name (default `poisson`): lets a backtest run several operating points side by side. */
  name?: string;
  /** Alarm when P(silence) falls below this. */
  alarmP?: number;
  /** κ of the negative binomial: smaller = more over-dispersed = slower, surer alarms. */
  dispersion?: number;
  /** Half-life of the system-level tracker. */
  levelHalfLifeSec?: number;
  /** Forgetting factor applied to the learned rates at each local midnight. */
  dailyDecay?: number;
  /** Read learned rates as per-poll occurrence probabilities (see binnedHazard). Default true. */
  binned?: boolean;
  /** Widen the test by each station's own rate uncertainty (see kappaFor). Default true. */
  rateUncertainty?: boolean;
}

/** Availability factors by bikes (resp. free docks) 0, 1, 2, 3+ (Bay Wheels 2023-04, see above). */
const RENT_FACTOR = [0, 0.65, 0.9, 1];
const RETURN_FACTOR = [0, 0.75, 0.93, 1];
/** Each direction must have had a real chance before `locked` is claimed. */
const MIN_EXPECTED_PER_DIRECTION = 1;
/** Pseudo-events behind the system level: keeps it near 1 when the system is quiet (night). */
const LEVEL_PRIOR_EVENTS = 30;
const LEVEL_MIN = 0.25;
const LEVEL_MAX = 2;

interface Station {
  i: number;
  id: string;
  present: boolean;
  bikes: number;
  docks: number;
  installed: boolean;
  renting: boolean;
  returning: boolean;
  clockSec: number;
  observedSec: number;
  /** Expected events since the last rental / return / any event (scaled, blind time excluded). */
  expRent: number;
  expReturn: number;
  expAny: number;
  silentSec: number;
  rentBad: boolean;
  returnBad: boolean;
  /** Document time of the last move, and which directions moved then (occurrence counting). */
  lastMoveSec: number;
  movedRent: boolean;
  movedReturn: boolean;
  state: DetectedState;
  sinceSec: number;
  confidence: number;
}

export class PoissonDetector implements Detector {
  readonly name: string;
  private readonly system: string;
  private readonly minHistorySec: number;
  private readonly alarmP: number;
  private readonly kappa: number;
  /** Λ above which P0 < alarmP: (1 + Λ/κ)^−κ < p ⇔ Λ > κ(p^(−1/κ) − 1). */
  private readonly alarmLambda: number;
  private readonly levelHalfLifeSec: number;
  private readonly dailyDecay: number;
  private readonly binned: boolean;
  private readonly rateUncertainty: boolean;
  private rent = new RateTable();
  private ret = new RateTable();
  private stations: Station[] = [];
  private byId = new Map<string, Station>();
  private nowSec = 0;
  private nowBucket = 0;
  private intervalBucket = 0;
  private localDay = -1;
  private level = 1;
  private obsEw = 0;
  private expEw = 0;
  /** Observed events and level-1 expected events since the last snapshot. */
  private docObserved = 0;
  private docExpected = 0;
  private lastLevelSec = 0;
  /** Typical seconds between documents: the bin of the occurrence counts. */
  private pollSec = 600;

  constructor(opts: PoissonOptions) {
    this.name = opts.name ?? 'poisson';
    this.system = opts.system;
    this.minHistorySec = opts.minHistoryDays * 86_400;
    this.alarmP = opts.alarmP ?? 1e-4;
    this.kappa = opts.dispersion ?? 10;
    this.alarmLambda = silenceThreshold(this.alarmP, this.kappa);
    this.levelHalfLifeSec = opts.levelHalfLifeSec ?? 3 * 3600;
    this.dailyDecay = opts.dailyDecay ?? 0.98;
    this.binned = opts.binned ?? true;
    this.rateUncertainty = opts.rateUncertainty ?? true;
  }

  handle(event: LoggedEvent, activity: ActivityView): StateChange[] {
    if (event.timeSec > this.nowSec) this.tick(event.timeSec, activity);
    switch (event.type) {
      case 'feed_gap':
        // Blind from fromSec to now: every station already advanced to fromSec at the last snapshot.
        for (const s of this.stations) if (s.clockSec < event.timeSec) s.clockSec = event.timeSec;
        return [];
      case 'station_added': {
        const s = this.station(event.stationId, event.timeSec);
        s.present = true;
        s.clockSec = event.timeSec;
        s.installed = event.flags.installed;
        s.renting = event.flags.renting;
        s.returning = event.flags.returning;
        this.setCounts(s, event.after);
        return [];
      }
      case 'rented':
      case 'returned':
        return this.onMove(event.type, event.stationId, event);
      case 'availability_changed': {
        const s = this.byId.get(event.stationId);
        if (s) {
          this.advance(s, event.timeSec);
          this.setCounts(s, event.after);
        }
        return [];
      }
      case 'status_changed':
        return this.onFlag(event);
      case 'station_removed': {
        const s = this.byId.get(event.stationId);
        if (!s) return [];
        this.advance(s, event.timeSec);
        s.present = false;
        return this.clear(s, event.timeSec, event.offset, 'station_removed');
      }
      case 'snapshot':
        // Typical poll interval, smoothed; missed documents and gaps (> 3 typical) are left out.
        if (event.intervalSec !== null && event.intervalSec > 0 && event.intervalSec <= 3 * this.pollSec)
          this.pollSec += 0.02 * (event.intervalSec - this.pollSec);
        return this.onSnapshot(event.timeSec, event.offset);
      default:
        return [];
    }
  }

  states(): Map<string, { state: DetectedState; sinceSec: number; confidence: number }> {
    const m = new Map<string, { state: DetectedState; sinceSec: number; confidence: number }>();
    for (const s of this.stations)
      if (s.present) m.set(s.id, { state: s.state, sinceSec: s.sinceSec, confidence: s.confidence });
    return m;
  }

  saveState(): unknown {
    return {
      v: 1,
      rent: this.rent.save(),
      ret: this.ret.save(),
      stations: this.stations.map((s) => ({ ...s })),
      clock: [
        this.nowSec,
        this.nowBucket,
        this.intervalBucket,
        this.localDay,
        this.level,
        this.obsEw,
        this.expEw,
        this.docObserved,
        this.docExpected,
        this.lastLevelSec,
        this.pollSec,
      ],
    };
  }

  restoreState(state: unknown): void {
    const st = state as {
      v: number;
      rent: RateTableState;
      ret: RateTableState;
      stations: Station[];
      clock: number[];
    };
    if (!st || st.v !== 1) throw new Error('poisson: unknown saved state version');
    this.rent = RateTable.restore(st.rent);
    this.ret = RateTable.restore(st.ret);
    this.stations = st.stations.map((s) => ({ ...s }));
    this.byId = new Map(this.stations.map((s) => [s.id, s]));
    [
      this.nowSec,
      this.nowBucket,
      this.intervalBucket,
      this.localDay,
      this.level,
      this.obsEw,
      this.expEw,
      this.docObserved,
      this.docExpected,
      this.lastLevelSec,
      this.pollSec,
    ] = st.clock as [number, number, number, number, number, number, number, number, number, number, number];
  }

  /** Time moved on: the interval just ended used the previous document's bucket. */
  private tick(timeSec: number, activity: ActivityView): void {
    const { bucket, day } = localBucket(timeSec, activity);
    this.intervalBucket = this.nowSec === 0 ? bucket : this.nowBucket;
    this.nowSec = timeSec;
    this.nowBucket = bucket;
    if (this.localDay >= 0 && day !== this.localDay) {
      this.rent.decay(this.dailyDecay);
      this.ret.decay(this.dailyDecay);
    }
    this.localDay = day;
  }

  private station(id: string, timeSec: number): Station {
    let s = this.byId.get(id);
    if (!s) {
      const i = this.stations.length;
      this.rent.ensure(i);
      this.ret.ensure(i);
      s = {
        i,
        id,
        present: true,
        bikes: 0,
        docks: 0,
        installed: true,
        renting: true,
        returning: true,
        clockSec: timeSec,
        observedSec: 0,
        expRent: 0,
        expReturn: 0,
        expAny: 0,
        silentSec: 0,
        rentBad: false,
        returnBad: false,
        lastMoveSec: 0,
        movedRent: false,
        movedReturn: false,
        state: 'learning',
        sinceSec: timeSec,
        confidence: 0,
      };
      this.stations.push(s);
      this.byId.set(id, s);
    }
    return s;
  }

  private setCounts(
    s: Station,
    after: { bikes: { mechanical: number; electric: number; other: number }; docksAvailable: number },
  ): void {
    s.bikes = after.bikes.mechanical + after.bikes.electric + after.bikes.other;
    s.docks = after.docksAvailable;
  }

  /** Integrates expectation and exposure from the station's clock to `timeSec`. */
  private advance(s: Station, timeSec: number): void {
    const dt = timeSec - s.clockSec;
    if (dt <= 0) return;
    s.clockSec = timeSec;
    if (!s.present) return;
    s.observedSec += dt;
    if (!s.installed) return;
    const hours = dt / 3600;
    const b = this.intervalBucket;
    let expected = 0;
    let hazard = 0;
    // Polls in this interval: the saturation is that of one typical poll, not of a long interval.
    const perPoll = this.pollSec / dt;
    if (s.renting && s.bikes > 0) {
      const x = hours * RENT_FACTOR[s.bikes < 3 ? s.bikes : 3]!;
      if (!s.rentBad) this.rent.addExposure(s.i, b, x);
      const inc = this.rent.rate(s.i, b) * x;
      const h = this.binned ? binnedHazard(inc * this.level * perPoll) / perPoll : inc * this.level;
      s.expRent += h;
      hazard += h;
      expected += inc;
    }
    if (s.returning && s.docks > 0) {
      const x = hours * RETURN_FACTOR[s.docks < 3 ? s.docks : 3]!;
      if (!s.returnBad) this.ret.addExposure(s.i, b, x);
      const inc = this.ret.rate(s.i, b) * x;
      const h = this.binned ? binnedHazard(inc * this.level * perPoll) / perPoll : inc * this.level;
      s.expReturn += h;
      hazard += h;
      expected += inc;
    }
    if (expected > 0) {
      s.expAny += hazard;
      s.silentSec += dt;
      this.docExpected += expected;
    }
  }

  private onMove(
    type: 'rented' | 'returned',
    id: string,
    event: Extract<LoggedEvent, { type: 'rented' | 'returned' }>,
  ): StateChange[] {
    const s = this.byId.get(id);
    if (!s) return [];
    this.advance(s, event.timeSec);
    this.setCounts(s, event.after);
    s.expAny = 0;
    s.silentSec = 0;
    const wasLocked = s.state === 'locked';
    // Occurrences, not bikes: a rebalancing truck taking ten bikes, or a group of riders, is one
    // burst; counting ten would promise ten times more activity than the station's silence can show.
    const first = s.lastMoveSec !== event.timeSec || (type === 'rented' ? !s.movedRent : !s.movedReturn);
    if (first) this.docObserved++;
    if (s.lastMoveSec !== event.timeSec) {
      s.lastMoveSec = event.timeSec;
      s.movedRent = s.movedReturn = false;
    }
    if (type === 'rented') {
      s.movedRent = true;
      if (first) this.rent.addEvents(s.i, this.intervalBucket, 1);
      s.expRent = 0;
      s.rentBad = false;
    } else {
      s.movedReturn = true;
      if (first) this.ret.addEvents(s.i, this.intervalBucket, 1);
      s.expReturn = 0;
      s.returnBad = false;
    }
    // A locked station that moves again was unlocked as a whole: the other direction restarts too.
    if (wasLocked) {
      s.rentBad = s.returnBad = false;
      s.expRent = s.expReturn = 0;
    }
    return this.transition(s, event.timeSec, event.offset, 'activity_resumed');
  }

  private onFlag(event: Extract<LoggedEvent, { type: 'status_changed' }>): StateChange[] {
    const s = this.byId.get(event.stationId);
    if (!s) return [];
    this.advance(s, event.timeSec);
    this.setCounts(s, event.after);
    if (event.flag === 'installed') s.installed = event.to;
    else if (event.flag === 'renting') s.renting = event.to;
    else s.returning = event.to;
    // The feed now declares (or stops declaring) a problem: our silence counters start afresh.
    s.expRent = s.expReturn = s.expAny = 0;
    s.silentSec = 0;
    return this.clear(s, event.timeSec, event.offset, 'feed_declared');
  }

  private clear(s: Station, timeSec: number, offset: number, reason: string): StateChange[] {
    s.rentBad = s.returnBad = false;
    return this.transition(s, timeSec, offset, reason);
  }

  private onSnapshot(timeSec: number, offset: number): StateChange[] {
    const out: StateChange[] = [];
    for (const s of this.stations) {
      if (!s.present) continue;
      this.advance(s, timeSec);
      if (s.state === 'learning' && s.observedSec < this.minHistorySec) continue;
      // alarmLambda is the smallest threshold (κ0): only then is the station's own one computed.
      const L = this.alarmLambda;
      if (
        s.expAny > L &&
        s.expRent > MIN_EXPECTED_PER_DIRECTION &&
        s.expReturn > MIN_EXPECTED_PER_DIRECTION &&
        s.expAny > this.lambdaFor(this.kappaFor(s.i, 'any'))
      ) {
        s.rentBad = s.returnBad = true;
      }
      if (s.expRent > L && s.expRent > this.lambdaFor(this.kappaFor(s.i, 'rent'))) s.rentBad = true;
      if (s.expReturn > L && s.expReturn > this.lambdaFor(this.kappaFor(s.i, 'return'))) s.returnBad = true;
      const changed = this.transition(s, timeSec, offset, 'missing_activity');
      for (const c of changed) out.push(c);
    }
    this.updateLevel(timeSec);
    return out;
  }

  /** Observed / expected system events over the last hours, shrunk toward 1. */
  private updateLevel(timeSec: number): void {
    const dt = this.lastLevelSec > 0 ? timeSec - this.lastLevelSec : 0;
    this.lastLevelSec = timeSec;
    const decay = Math.pow(0.5, dt / this.levelHalfLifeSec);
    this.obsEw = this.obsEw * decay + this.docObserved;
    this.expEw = this.expEw * decay + this.docExpected;
    this.docObserved = this.docExpected = 0;
    const level = (this.obsEw + LEVEL_PRIOR_EVENTS) / (this.expEw + LEVEL_PRIOR_EVENTS);
    this.level = level < LEVEL_MIN ? LEVEL_MIN : level > LEVEL_MAX ? LEVEL_MAX : level;
  }

  /**
   * κ of the station's silence test: day-to-day over-dispersion (κ0) and the uncertainty of its
   * learned rate (gamma posterior of shape a) add up as variances of the gamma mixing: 1/κ = 1/κ0 + 1/a.
   * A station with few learned events needs a longer silence; a busy one keeps κ ≈ κ0.
   */
  private kappaFor(i: number, dir: 'rent' | 'return' | 'any'): number {
    if (!this.rateUncertainty) return this.kappa;
    const a =
      dir === 'rent'
        ? this.rent.evidenceEvents(i)
        : dir === 'return'
          ? this.ret.evidenceEvents(i)
          : this.rent.evidenceEvents(i) + this.ret.evidenceEvents(i);
    return a > 0 ? 1 / (1 / this.kappa + 1 / a) : this.kappa;
  }

  private lambdaFor(kappa: number): number {
    return silenceThreshold(this.alarmP, kappa);
  }

  private pSilence(lambda: number, kappa: number): number {
    return silenceP(lambda, kappa);
  }

  /** Emits the change implied by the station's flags, if its state differs. */
  private transition(s: Station, timeSec: number, offset: number, reason: string): StateChange[] {
    let to: DetectedState;
    if (s.state === 'learning' && s.observedSec < this.minHistorySec) return [];
    if (s.rentBad && s.returnBad) to = 'locked';
    else if (s.rentBad) to = 'rent_blocked';
    else if (s.returnBad) to = 'return_blocked';
    else to = 'ok';
    if (to === s.state) return [];
    const p =
      to === 'locked'
        ? this.pSilence(s.expAny, this.kappaFor(s.i, 'any'))
        : to === 'rent_blocked'
          ? this.pSilence(s.expRent, this.kappaFor(s.i, 'rent'))
          : to === 'return_blocked'
            ? this.pSilence(s.expReturn, this.kappaFor(s.i, 'return'))
            : 1;
    const confidence = to === 'ok' ? 1 : 1 - p;
    const evidence: Evidence | null =
      to === 'ok'
        ? null
        : {
            expected: s.expAny,
            observed: 0,
            inactiveSec: s.silentSec,
            expectedRentals: s.expRent,
            expectedReturns: s.expReturn,
            pValue: p,
            systemLevel: this.level,
          };
    const change: StateChange = {
      system: this.system,
      stationId: s.id,
      timeSec,
      from: s.state,
      to,
      detector: this.name,
      confidence,
      reason: s.state === 'learning' ? 'history_ready' : reason,
      evidence,
      offset,
    };
    s.state = to;
    s.sinceSec = timeSec;
    s.confidence = confidence;
    return [change];
  }
}

export { binnedHazard, localBucket } from './poisson-math.js';
