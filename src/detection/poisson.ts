/**
 * `poisson`: flags a station when its silence is very unlikely given how it is usually used.
 *
 * - Rentals and returns are two count processes, each with its own learned rate per station, day type
 *   and local hour (poisson-rates.ts). Rentals are expected only while a bike is there and returns
 *   only while a dock is free, scaled down when just one or two are (measured on Bay Wheels, April
 *   2023: with one bike the rental rate is 0.65× that with three or more, with one free dock the
 *   return rate is 0.75×; poisson-station.ts).
 * - Expected counts are scaled by today's system-wide level (poisson-level.ts): the ratio of the
 *   system's observed to expected events over the last hours (exponentially weighted), so that
 *   holidays, rain and system-wide dips raise no alarm at every station at once.
 * - The silence test: P(no event | expected Λ) under a negative binomial (gamma–Poisson,
 *   over-dispersed: day-to-day demand varies far more than Poisson), P0 = (1 + Λ/κ)^−κ. An alarm
 *   when P0 < `alarmP`, with confidence 1 − P0. Three tests: no activity at all → `locked`, no rental
 *   → `rent_blocked`, no return → `return_blocked`. For a lock (rate → 0) this *is* Page's CUSUM
 *   (1954) of the rate: the log-likelihood ratio grows by the expected count while silent and any
 *   event sends it to −∞, so "Λ since the last event > threshold" is the sequential test itself.
 * - Λ is counted in polls, not in a Poisson mean: rates are learned as occurrences per poll, and a
 *   silent poll of a station that moves in half of its polls weighs −ln ½ (binnedHazard).
 * - κ per station: 1/κ = 1/κ0 + 1/a, a = the station's learned events (rate uncertainty;
 *   poisson-silence.ts).
 * - Stuck bikes and blocked docks (poisson-stuck.ts): k bikes of one type that never leave while
 *   others are rented → `bikes_stuck`; k free docks that never take a bike while returns go on →
 *   `docks_blocked`. A lock of the station, or of one direction, takes precedence.
 * - Default alarmP 5e-5: where it beats `seed` on recall and delay with no more alarms outside
 *   injected faults on the Bay Wheels backtest (docs/detection-quality.md, operating curve).
 * - Hysteresis: entering needs P0 < alarmP; leaving needs activity in the blocked direction (any
 *   activity for `locked`, whose cause is usually the whole station). No state flaps on noise.
 * - Blind time (feed_gap) counts neither as exposure nor as silence; time under an alarm teaches
 *   nothing (a long real lock must not become the station's "usual").
 */
import type { LoggedEvent } from '../events/types.js';
import { binnedHazard, localBucket } from './poisson-math.js';
import { SystemLevel, type SystemLevelState } from './poisson-level.js';
import { PackReader, PackWriter } from './poisson-pack.js';
import { RateTable, type RateTableState } from './poisson-rates.js';
import { SilenceTest } from './poisson-silence.js';
import { RENT_FACTOR, RETURN_FACTOR, newStation, type Station } from './poisson-station.js';
import { STUCK_TYPES, StuckWatch, type StuckState } from './poisson-stuck.js';
import type { ActivityView, DetectedState, Detector, Evidence, StateChange } from './types.js';

export interface PoissonOptions {
  system: string;
  minHistoryDays: number;
  /** Detector name (default `poisson`): lets a backtest run several operating points side by side. */
  name?: string;
  /** Alarm when P(silence) falls below this (default 5e-5). */
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
  /** Alarm on stuck bikes / blocked docks when P(no exit from the level) falls below this; 0 = off. */
  stuckP?: number;
}

/** Numbers per station in a version-3 checkpoint (clockSec … confidence, see saveState). */
const STATION_NUMBERS = 9;

/** Each direction must have had a real chance before `locked` is claimed. */
const MIN_EXPECTED_PER_DIRECTION = 1;

export class PoissonDetector implements Detector {
  readonly name: string;
  private readonly system: string;
  private readonly minHistorySec: number;
  /** The lock tests (locked, rent_blocked, return_blocked) and the stuck bikes / blocked docks one. */
  private readonly alarm: SilenceTest;
  private readonly stuckTest: SilenceTest;
  private readonly dailyDecay: number;
  private readonly binned: boolean;
  private rent = new RateTable();
  private ret = new RateTable();
  private stuck = new StuckWatch();
  private stations: Station[] = [];
  private byId = new Map<string, Station>();
  private nowSec = 0;
  private nowBucket = 0;
  private intervalBucket = 0;
  private localDay = -1;
  private readonly system_: SystemLevel;
  /** Typical seconds between documents: the bin of the occurrence counts. */
  private pollSec = 600;

  constructor(opts: PoissonOptions) {
    this.name = opts.name ?? 'poisson';
    this.system = opts.system;
    this.minHistorySec = opts.minHistoryDays * 86_400;
    const alarmP = opts.alarmP ?? 5e-5;
    const kappa0 = opts.dispersion ?? 10;
    const rateUncertainty = opts.rateUncertainty ?? true;
    this.alarm = new SilenceTest(alarmP, kappa0, rateUncertainty);
    this.stuckTest = new SilenceTest(opts.stuckP ?? alarmP, kappa0, rateUncertainty);
    this.system_ = new SystemLevel(opts.levelHalfLifeSec ?? 3 * 3600);
    this.dailyDecay = opts.dailyDecay ?? 0.98;
    this.binned = opts.binned ?? true;
  }

  private get level(): number {
    return this.system_.level;
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

  /**
   * Version 3: every array and every station field as binary columns in one byte string
   * (poisson-pack.ts), kept as binary by the stores: ~4× smaller than version 2's JSON for 1,495
   * stations and built without a JSON text of the tables (bench/poisson-checkpoint.ts).
   */
  saveState(): unknown {
    const w = new PackWriter();
    const n = this.stations.length;
    const names: string[] = [];
    const stateIndex = new Uint8Array(n);
    const flags = new Uint8Array(n);
    const ints = new Int32Array(3 * n);
    const nums = new Float64Array(STATION_NUMBERS * n);
    for (let i = 0; i < n; i++) {
      const s = this.stations[i]!;
      let k = names.indexOf(s.state);
      if (k < 0) k = names.push(s.state) - 1;
      stateIndex[i] = k;
      flags[i] =
        (s.present ? 1 : 0) |
        (s.installed ? 2 : 0) |
        (s.renting ? 4 : 0) |
        (s.returning ? 8 : 0) |
        (s.rentBad ? 16 : 0) |
        (s.returnBad ? 32 : 0) |
        (s.movedRent ? 64 : 0) |
        (s.movedReturn ? 128 : 0);
      ints[i] = s.bikes;
      ints[n + i] = s.docks;
      ints[2 * n + i] = s.rentedTypes;
      // Column-major: like values side by side deflate better.
      nums[i] = s.clockSec;
      nums[n + i] = s.observedSec;
      nums[2 * n + i] = s.expRent;
      nums[3 * n + i] = s.expReturn;
      nums[4 * n + i] = s.expAny;
      nums[5 * n + i] = s.silentSec;
      nums[6 * n + i] = s.lastMoveSec;
      nums[7 * n + i] = s.sinceSec;
      nums[8 * n + i] = s.confidence;
    }
    w.json({ ids: this.stations.map((s) => s.id), states: names });
    w.u8(stateIndex);
    w.u8(flags);
    w.i32(ints);
    w.f64(nums);
    w.f64(
      Float64Array.of(
        this.nowSec,
        this.nowBucket,
        this.intervalBucket,
        this.localDay,
        this.pollSec,
        ...this.system_.save(),
      ),
    );
    this.rent.pack(w);
    this.ret.pack(w);
    this.stuck.pack(w);
    return { v: 3, bin: w.finish() };
  }

  /**
   * The version-2 form (JSON objects, arrays in base64): what builds before version 3 read, for a
   * rollback to one of them; the tests build older checkpoints from it.
   */
  saveStateV2(): unknown {
    return {
      v: 2,
      rent: this.rent.save(),
      ret: this.ret.save(),
      stuck: this.stuck.save(),
      stations: this.stations.map((s) => ({ ...s })),
      clock: [this.nowSec, this.nowBucket, this.intervalBucket, this.localDay, this.pollSec],
      level: this.system_.save(),
    };
  }

  private restorePacked(bin: Uint8Array | string): void {
    const r = new PackReader(bin);
    const { ids, states } = r.json('station ids') as { ids: string[]; states: DetectedState[] };
    const n = ids.length;
    const stateIndex = r.u8('station states', n);
    const flags = r.u8('station flags', n);
    const ints = r.i32('station counts', 3 * n);
    const nums = r.f64('station numbers', STATION_NUMBERS * n);
    const clock = r.f64('clock', 11);
    const rent = RateTable.unpack(r);
    const ret = RateTable.unpack(r);
    const stuck = StuckWatch.unpack(r);
    r.end();
    this.stations = ids.map((id, i): Station => {
      const f = flags[i]!;
      const state = states[stateIndex[i]!];
      if (state === undefined) throw new Error('poisson checkpoint: unknown state index');
      return {
        i,
        id,
        present: (f & 1) !== 0,
        bikes: ints[i]!,
        docks: ints[n + i]!,
        installed: (f & 2) !== 0,
        renting: (f & 4) !== 0,
        returning: (f & 8) !== 0,
        clockSec: nums[i]!,
        observedSec: nums[n + i]!,
        expRent: nums[2 * n + i]!,
        expReturn: nums[3 * n + i]!,
        expAny: nums[4 * n + i]!,
        silentSec: nums[5 * n + i]!,
        rentBad: (f & 16) !== 0,
        returnBad: (f & 32) !== 0,
        lastMoveSec: nums[6 * n + i]!,
        movedRent: (f & 64) !== 0,
        movedReturn: (f & 128) !== 0,
        rentedTypes: ints[2 * n + i]!,
        state,
        sinceSec: nums[7 * n + i]!,
        confidence: nums[8 * n + i]!,
      };
    });
    this.byId = new Map(this.stations.map((s) => [s.id, s]));
    this.rent = rent;
    this.ret = ret;
    this.stuck = stuck;
    [this.nowSec, this.nowBucket, this.intervalBucket, this.localDay, this.pollSec] = clock as unknown as [
      number,
      number,
      number,
      number,
      number,
    ];
    this.system_.restore(Array.from(clock.subarray(5, 11)) as SystemLevelState);
  }

  /**
   * Restores version 3 (binary columns: bytes, or their base64 as saved before the stores kept
   * binaries), version 2 (JSON; its arrays as numbers or base64), or version 1 (before stuck bikes:
   * their watch starts empty).
   */
  restoreState(state: unknown): void {
    const packed = state as { v?: unknown; bin?: unknown } | null;
    if (packed && packed.v === 3) {
      if (typeof packed.bin !== 'string' && !(packed.bin instanceof Uint8Array))
        throw new Error('poisson: saved state version 3 without its data');
      this.restorePacked(packed.bin);
      return;
    }
    const st = state as {
      v: number;
      rent: RateTableState;
      ret: RateTableState;
      stuck?: StuckState;
      stations: Station[];
      clock: number[];
      level?: SystemLevelState;
    };
    if (!st || (st.v !== 1 && st.v !== 2)) throw new Error('poisson: unknown saved state version');
    this.rent = RateTable.restore(st.rent);
    this.ret = RateTable.restore(st.ret);
    this.stations = st.stations.map((s) => ({ ...s, rentedTypes: s.rentedTypes ?? 0 }));
    this.byId = new Map(this.stations.map((s) => [s.id, s]));
    const c = st.clock;
    if (st.v === 1) {
      // v1 clock: now, bucket, interval bucket, day, level, obsEw, expEw, docObs, docExp, lastLevel, poll.
      [this.nowSec, this.nowBucket, this.intervalBucket, this.localDay] = c as [
        number,
        number,
        number,
        number,
      ];
      this.pollSec = c[10]!;
      this.system_.restore(c.slice(4, 10) as SystemLevelState);
      this.stuck = new StuckWatch();
      if (this.stations.length > 0) this.stuck.ensure(this.stations.length - 1);
      return;
    }
    [this.nowSec, this.nowBucket, this.intervalBucket, this.localDay, this.pollSec] = c as [
      number,
      number,
      number,
      number,
      number,
    ];
    this.system_.restore(st.level!);
    this.stuck = StuckWatch.restore(st.stuck!);
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
      this.stuck.decay(this.dailyDecay);
    }
    this.localDay = day;
  }

  private station(id: string, timeSec: number): Station {
    let s = this.byId.get(id);
    if (!s) {
      const i = this.stations.length;
      this.rent.ensure(i);
      this.ret.ensure(i);
      this.stuck.ensure(i);
      s = newStation(i, id, timeSec);
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
    this.stuck.setCounts(s.i, after.bikes, after.docksAvailable, s.clockSec);
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
      this.system_.expected(expected);
    }
    if (this.stuckTest.p > 0)
      this.stuck.advance(s.i, {
        hours,
        bucket: b,
        level: this.level,
        pollsInInterval: this.binned ? 1 / perPoll : 0,
        canRent: s.renting,
        canReturn: s.returning,
        rentFactor: RENT_FACTOR,
        returnFactor: RETURN_FACTOR,
        returnRate: this.ret.rate(s.i, b),
      });
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
    if (first) this.system_.observed(1);
    if (s.lastMoveSec !== event.timeSec) {
      s.lastMoveSec = event.timeSec;
      s.movedRent = s.movedReturn = false;
      s.rentedTypes = 0;
    }
    if (type === 'rented') {
      const bit = 1 << STUCK_TYPES.indexOf(event.bikeType);
      this.stuck.onRent(s.i, event.bikeType, this.intervalBucket, (s.rentedTypes & bit) === 0);
      s.rentedTypes |= bit;
      s.movedRent = true;
      if (first) this.rent.addEvents(s.i, this.intervalBucket, 1);
      s.expRent = 0;
      s.rentBad = false;
    } else {
      s.movedReturn = true;
      this.stuck.onReturn(s.i);
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
    this.stuck.reset(s.i, timeSec);
    return this.transition(s, timeSec, offset, reason);
  }

  private onSnapshot(timeSec: number, offset: number): StateChange[] {
    const out: StateChange[] = [];
    for (const s of this.stations) {
      if (!s.present) continue;
      this.advance(s, timeSec);
      if (s.state === 'learning' && s.observedSec < this.minHistorySec) continue;
      const rentEvents = this.rent.evidenceEvents(s.i);
      const returnEvents = this.ret.evidenceEvents(s.i);
      if (
        s.expRent > MIN_EXPECTED_PER_DIRECTION &&
        s.expReturn > MIN_EXPECTED_PER_DIRECTION &&
        this.alarm.passes(s.expAny, rentEvents + returnEvents)
      ) {
        s.rentBad = s.returnBad = true;
      }
      if (this.alarm.passes(s.expRent, rentEvents)) s.rentBad = true;
      if (this.alarm.passes(s.expReturn, returnEvents)) s.returnBad = true;
      if (this.stuckTest.p > 0)
        this.stuck.check(
          s.i,
          this.stuckTest.minLambda,
          (a) => this.stuckTest.threshold(a),
          () => this.stuckTest.threshold(returnEvents),
        );
      const changed = this.transition(s, timeSec, offset, 'missing_activity');
      for (const c of changed) out.push(c);
    }
    this.system_.update(timeSec);
    return out;
  }

  /** Emits the change implied by the station's flags, if its state differs. */
  private transition(s: Station, timeSec: number, offset: number, reason: string): StateChange[] {
    let to: DetectedState;
    if (s.state === 'learning' && s.observedSec < this.minHistorySec) return [];
    if (s.rentBad && s.returnBad) to = 'locked';
    else if (s.rentBad) to = 'rent_blocked';
    else if (s.returnBad) to = 'return_blocked';
    else if (this.stuck.hasStuckBikes(s.i)) to = 'bikes_stuck';
    else if (this.stuck.hasBlockedDocks(s.i)) to = 'docks_blocked';
    else to = 'ok';
    if (to === s.state) return [];
    const stuck = to === 'bikes_stuck' || to === 'docks_blocked' ? this.stuck.evidence(s.i) : null;
    const rentEvents = this.rent.evidenceEvents(s.i);
    const returnEvents = this.ret.evidenceEvents(s.i);
    const p = stuck
      ? this.stuckTest.pValue(stuck.expectedExits, 0)
      : to === 'locked'
        ? this.alarm.pValue(s.expAny, rentEvents + returnEvents)
        : to === 'rent_blocked'
          ? this.alarm.pValue(s.expRent, rentEvents)
          : to === 'return_blocked'
            ? this.alarm.pValue(s.expReturn, returnEvents)
            : 1;
    const confidence = to === 'ok' ? 1 : 1 - p;
    // For stuck bikes / blocked docks, the silence is that of the level: since the station last
    // held fewer bikes of that type (resp. free docks), not since its last move.
    const evidence: Evidence | null =
      to === 'ok'
        ? null
        : {
            expected: s.expAny,
            observed: 0,
            inactiveSec: stuck ? Math.max(0, timeSec - stuck.sinceSec) : s.silentSec,
            expectedRentals: s.expRent,
            expectedReturns: s.expReturn,
            pValue: p,
            systemLevel: this.level,
            ...(stuck
              ? {
                  stuckBikes: stuck.stuckBikes,
                  blockedDocks: stuck.blockedDocks,
                  expectedExits: stuck.expectedExits,
                }
              : {}),
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
