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
 *   → `rent_blocked`, no return → `return_blocked`.
 * - Hysteresis: entering needs P0 < alarmP; leaving needs activity in the blocked direction (any
 *   activity for `locked`, whose cause is usually the whole station). No state flaps on noise.
 * - Blind time (feed_gap) counts neither as exposure nor as silence; time under an alarm teaches
 *   nothing (a long real lock must not become the station's "usual").
 */
import type { LoggedEvent } from '../events/types.js';
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

  constructor(opts: PoissonOptions) {
    this.name = opts.name ?? 'poisson';
    this.system = opts.system;
    this.minHistorySec = opts.minHistoryDays * 86_400;
    this.alarmP = opts.alarmP ?? 1e-4;
    this.kappa = opts.dispersion ?? 10;
    this.alarmLambda = this.kappa * (Math.pow(this.alarmP, -1 / this.kappa) - 1);
    this.levelHalfLifeSec = opts.levelHalfLifeSec ?? 3 * 3600;
    this.dailyDecay = opts.dailyDecay ?? 0.98;
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
    ] = st.clock as [number, number, number, number, number, number, number, number, number, number];
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
    if (s.renting && s.bikes > 0) {
      const x = hours * RENT_FACTOR[s.bikes < 3 ? s.bikes : 3]!;
      if (!s.rentBad) this.rent.addExposure(s.i, b, x);
      const inc = this.rent.rate(s.i, b) * x;
      s.expRent += inc * this.level;
      expected += inc;
    }
    if (s.returning && s.docks > 0) {
      const x = hours * RETURN_FACTOR[s.docks < 3 ? s.docks : 3]!;
      if (!s.returnBad) this.ret.addExposure(s.i, b, x);
      const inc = this.ret.rate(s.i, b) * x;
      s.expReturn += inc * this.level;
      expected += inc;
    }
    if (expected > 0) {
      s.expAny += expected * this.level;
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
      const L = this.alarmLambda;
      if (
        s.expAny > L &&
        s.expRent > MIN_EXPECTED_PER_DIRECTION &&
        s.expReturn > MIN_EXPECTED_PER_DIRECTION
      ) {
        s.rentBad = s.returnBad = true;
      }
      if (s.expRent > L) s.rentBad = true;
      if (s.expReturn > L) s.returnBad = true;
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

  private pSilence(lambda: number): number {
    return Math.pow(1 + lambda / this.kappa, -this.kappa);
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
        ? this.pSilence(s.expAny)
        : to === 'rent_blocked'
          ? this.pSilence(s.expRent)
          : to === 'return_blocked'
            ? this.pSilence(s.expReturn)
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

/** Day type × local hour bucket, from the activity model's local slot (DST-correct there). */
export function localBucket(timeSec: number, activity: ActivityView): { bucket: number; day: number } {
  const slot = activity.slotOf(timeSec);
  const utcSecOfDay = ((timeSec % 86_400) + 86_400) % 86_400;
  let offsetSec = slot * 600 + (utcSecOfDay % 600) - utcSecOfDay;
  // Offsets lie in (−12 h, +14 h]: fold the day wrap back.
  if (offsetSec > 14 * 3600) offsetSec -= 86_400;
  else if (offsetSec <= -12 * 3600) offsetSec += 86_400;
  const day = Math.floor((timeSec + offsetSec) / 86_400);
  const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (0 = Sunday)
  const weekend = weekday === 0 || weekday === 6;
  return { bucket: (weekend ? 24 : 0) + Math.floor(slot / 6), day };
}
