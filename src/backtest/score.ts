/**
 * Scores one detector's alarms against the injected faults.
 *
 * How alarms are attributed (each alarm episode by the time it starts):
 * - `hit`: starts inside a station fault's window [start, end) at that station.
 * - `late`: starts within `lateSec` after a fault's end at that station (caused by the fault, useless),
 *   or inside the window of a fault of the other family (a stuck-bikes fault that looks like a lock).
 * - `outage`: starts during a feed outage or within `outagePostSec` after it (any station), unless
 *   the detector's evidence shows the silence began over an hour before the outage.
 * - `unexplained`: everything else. Real locks already in the trace are unknown, so these are not
 *   called false: they give the false-alarm rate on un-injected station-time (an upper bound) and the
 *   top stations are listed so that a person can look.
 * Precision is measured at the injected prevalence: around each fault, its station's alarms from
 * `neighbourhoodSec` before the start to `neighbourhoodSec` after the end; hits / all of them.
 */
import type { DetectedState } from '../detection/types.js';
import {
  BUSYNESS_BANDS,
  STATION_FAULT_KINDS,
  bandOf,
  type Fault,
  type OutageFault,
  type StationFault,
  type StationFaultKind,
} from './faults.js';
import type { AlarmEpisode, AlarmFamily } from './episodes.js';

const PRE_SILENCE_SEC = 3600;

export interface StationExposure {
  stationId: string;
  eventsPerHour: number;
  /** Observed, un-injected station-time after the warm-up (blind time excluded). */
  uninjectedSec: number;
}

export interface ScoreOptions {
  lateSec?: number; // default 2 h
  outagePostSec?: number; // default 1 h
  neighbourhoodSec?: number; // default 24 h
}

export interface FaultOutcome {
  faultId: number;
  kind: StationFaultKind;
  stationId: string;
  durationSec: number;
  /** Station busyness averaged over the whole trace (bands). */
  eventsPerHour: number;
  /**
   * Events per hour the station usually sees during this very window (its time-of-day profile):
   * the goals are about these, since a lock at night at a station busy by day is invisible till morning.
   */
  windowPerHour: number;
  /** Bikes the real trace moved there during the window (0: the fault was invisible). */
  realEvents: number | null;
  /** stuck_bikes: rentals the fault refused (0: the feed looked exactly like the real one). */
  deniedEvents: number | null;
  /** An alarm was already up when the fault began: neither hit nor miss. */
  masked: boolean;
  /** From the injection start (what riders live through). */
  delaySec: number | null;
  /** From the moment the first event was due (profile): the part of the delay a detector controls. */
  delayAfterDueSec: number | null;
  state: DetectedState | null;
}

export interface Rates {
  faults: number;
  masked: number;
  detected: number;
  recall: number | null;
  /** Detected with the state the fault implies (rent_blocked for stuck bikes). */
  rightState: number;
  alarms: number;
  falseInNeighbourhood: number;
  precision: number | null;
  delayMedianSec: number | null;
  delayP90Sec: number | null;
  delayAfterDueMedianSec: number | null;
}

export interface DetectorScore {
  detector: string;
  byKind: Record<StationFaultKind, Rates & { byBand: Rates[] }>;
  /** The goals: locks ≥ 2 h at stations with ≥ 1 event/h, and the same for partial locks. */
  goalLocks: Rates;
  goalPartial: Rates;
  /**
   * Stuck bikes ≥ 2 h that showed at all: the real trace rented a held bike at least once, so the
   * faulty feed differs from the real one (most do not: the pinned type never ran that low).
   */
  goalStuckVisible: Rates;
  /** The same for docks_blocked (a return was refused at least once). */
  goalBlockedVisible: Rates;
  /** The first harness's goal set (station's all-day average ≥ 1/h), kept for comparison. */
  goalLocksStationAverage: Rates;
  /**
   * Every alarm episode after the warm-up by attribution. `precisionAll` = hits / all: a lower
   * bound, since unexplained alarms may be real locks; the short ones (over within an hour: the
   * station moved again soon) are the likeliest false ones.
   */
  alarmsAll: {
    hits: number;
    late: number;
    outage: number;
    unexplained: number;
    unexplainedUnder1h: number;
    precisionAll: number | null;
  };
  falseAlarms: {
    alarms: number;
    stationDays: number;
    per100StationDays: number | null;
    byBand: Array<{ alarms: number; stationDays: number; per100StationDays: number | null }>;
  };
  /**
   * Stuck bikes / blocked docks alarms (their own family): hits on stuck_bikes faults, and
   * unexplained ones per 100 station-days (not in `falseAlarms`, which is about locks).
   */
  stuckAlarms: { hits: number; unexplained: number; per100StationDays: number | null };
  outages: { outages: number; alarms: number; expectedByChance: number };
  unexplainedTop: Array<{ stationId: string; alarms: number; alarmHours: number; eventsPerHour: number }>;
  outcomes: FaultOutcome[];
}

const RIGHT_STATE: Record<StationFaultKind, DetectedState> = {
  locked: 'locked',
  rent_blocked: 'rent_blocked',
  return_blocked: 'return_blocked',
  stuck_bikes: 'bikes_stuck',
  docks_blocked: 'docks_blocked',
};

/** Which alarm family a fault should raise (stuck bikes: the stuck family; the rest: locks). */
const familyOf = (kind: StationFaultKind): AlarmFamily =>
  kind === 'stuck_bikes' || kind === 'docks_blocked' ? 'stuck' : 'lock';

export function scoreDetector(
  detector: string,
  faults: readonly Fault[],
  episodes: readonly AlarmEpisode[],
  exposure: readonly StationExposure[],
  endSec: number,
  opts: ScoreOptions = {},
): DetectorScore {
  const lateSec = opts.lateSec ?? 7200;
  const outagePost = opts.outagePostSec ?? 3600;
  const hood = opts.neighbourhoodSec ?? 86_400;
  const stationFaults = faults.filter((f): f is StationFault => f.kind !== 'outage');
  const outages = faults.filter((f): f is OutageFault => f.kind === 'outage');
  const byStation = new Map<string, AlarmEpisode[]>();
  for (const e of episodes) {
    const list = byStation.get(e.stationId) ?? [];
    list.push(e);
    byStation.set(e.stationId, list);
  }

  // Attribute every episode.
  const attributed = new Set<AlarmEpisode>();
  const outcomes: FaultOutcome[] = [];
  const hood_: Map<number, { alarms: number; falses: number }> = new Map();
  for (const f of stationFaults) {
    const family = familyOf(f.kind);
    const every = byStation.get(f.stationId) ?? [];
    // Any alarm the fault caused is explained; only its own family's can be a hit.
    for (const e of every) if (e.startSec >= f.startSec && e.startSec < f.endSec + lateSec) attributed.add(e);
    const list = every.filter((e) => e.family === family);
    const masked = list.some((e) => e.startSec < f.startSec && (e.endSec === null || e.endSec > f.startSec));
    const hit = list.find((e) => e.startSec >= f.startSec && e.startSec < f.endSec);
    let alarms = 0;
    let falses = 0;
    for (const e of list) {
      if (e.startSec < f.startSec - hood || e.startSec >= f.endSec + hood) continue;
      alarms++;
      if (!(e.startSec >= f.startSec && e.startSec < f.endSec)) falses++;
    }
    hood_.set(f.id, { alarms, falses });
    const durationSec = f.endSec - f.startSec;
    const delaySec = !masked && hit ? hit.startSec - f.startSec : null;
    const dueSec = f.firstExpectedSec ?? f.startSec;
    outcomes.push({
      faultId: f.id,
      kind: f.kind,
      stationId: f.stationId,
      durationSec,
      eventsPerHour: f.eventsPerHour,
      windowPerHour:
        f.expectedEvents === undefined ? f.eventsPerHour : f.expectedEvents / (durationSec / 3600),
      realEvents: f.realEvents ?? null,
      deniedEvents: f.deniedEvents ?? null,
      masked,
      delaySec,
      delayAfterDueSec: delaySec === null || !hit ? null : Math.max(0, hit.startSec - dueSec),
      state: !masked && hit ? hit.firstState : null,
    });
  }
  let outageAlarms = 0;
  let outageSec = 0;
  for (const o of outages) {
    outageSec += o.endSec - o.startSec + outagePost;
    for (const e of episodes) {
      // A silence that had lasted an hour before the outage began was not caused by it: that alarm
      // only happens to fall after it (it stays unexplained).
      if (e.silenceStartSec !== null && e.silenceStartSec < o.startSec - PRE_SILENCE_SEC) continue;
      if (e.startSec >= o.startSec && e.startSec < o.endSec + outagePost && !attributed.has(e)) {
        attributed.add(e);
        outageAlarms++;
      }
    }
  }

  const expByStation = new Map(exposure.map((x) => [x.stationId, x]));
  const bandAlarms = BUSYNESS_BANDS.map(() => ({ alarms: 0, sec: 0 }));
  for (const x of exposure) bandAlarms[bandOf(x.eventsPerHour)]!.sec += x.uninjectedSec;
  const perStation = new Map<string, { alarms: number; alarmSec: number }>();
  let unexplained = 0;
  let unexplainedShort = 0;
  let stuckUnexplained = 0;
  for (const e of episodes) {
    if (attributed.has(e)) continue;
    const x = expByStation.get(e.stationId);
    if (!x) continue; // only alarms after the warm-up, at stations with exposure
    if (e.family === 'stuck') {
      stuckUnexplained++;
      continue;
    }
    unexplained++;
    if (e.endSec !== null && e.endSec - e.startSec < 3600) unexplainedShort++;
    bandAlarms[bandOf(x.eventsPerHour)]!.alarms++;
    const s = perStation.get(e.stationId) ?? { alarms: 0, alarmSec: 0 };
    s.alarms++;
    s.alarmSec += (e.endSec ?? endSec) - e.startSec;
    perStation.set(e.stationId, s);
  }
  const totalSec = bandAlarms.reduce((a, b) => a + b.sec, 0);
  const per100 = (alarms: number, sec: number) => (sec > 0 ? (alarms / (sec / 86_400)) * 100 : null);
  const chance = totalSec > 0 ? (unexplained / totalSec) * exposure.length * outageSec : 0;

  const rates = (sel: (o: FaultOutcome) => boolean): Rates =>
    ratesOf(outcomes.filter(sel), hood_, RIGHT_STATE);
  const byKind = {} as DetectorScore['byKind'];
  for (const kind of STATION_FAULT_KINDS) {
    byKind[kind] = {
      ...rates((o) => o.kind === kind),
      byBand: BUSYNESS_BANDS.map((_, b) => rates((o) => o.kind === kind && bandOf(o.eventsPerHour) === b)),
    };
  }
  const goal = (o: FaultOutcome) => o.durationSec >= 7200 && o.windowPerHour >= 1;
  const lockAttributed = [...attributed].filter((e) => e.family === 'lock');
  const hits = lockAttributed.filter((e) => isHit(e, stationFaults)).length;
  const stuckHits = [...attributed].filter((e) => e.family === 'stuck' && isHit(e, stationFaults)).length;
  const lockOutage = lockAttributed.filter((e) => !isCaused(e, stationFaults, lateSec)).length;
  const late = lockAttributed.length - hits - lockOutage;
  const all = hits + late + lockOutage + unexplained;
  return {
    detector,
    byKind,
    goalLocks: rates((o) => o.kind === 'locked' && goal(o)),
    goalPartial: rates((o) => (o.kind === 'rent_blocked' || o.kind === 'return_blocked') && goal(o)),
    goalStuckVisible: rates(
      (o) => o.kind === 'stuck_bikes' && o.durationSec >= 7200 && (o.deniedEvents ?? 0) >= 1,
    ),
    goalBlockedVisible: rates(
      (o) => o.kind === 'docks_blocked' && o.durationSec >= 7200 && (o.deniedEvents ?? 0) >= 1,
    ),
    goalLocksStationAverage: rates(
      (o) => o.kind === 'locked' && o.durationSec >= 7200 && o.eventsPerHour >= 1,
    ),
    alarmsAll: {
      hits,
      late,
      outage: lockOutage,
      unexplained,
      unexplainedUnder1h: unexplainedShort,
      precisionAll: all > 0 ? hits / all : null,
    },
    falseAlarms: {
      alarms: unexplained,
      stationDays: totalSec / 86_400,
      per100StationDays: per100(unexplained, totalSec),
      byBand: bandAlarms.map((b) => ({
        alarms: b.alarms,
        stationDays: b.sec / 86_400,
        per100StationDays: per100(b.alarms, b.sec),
      })),
    },
    stuckAlarms: {
      hits: stuckHits,
      unexplained: stuckUnexplained,
      per100StationDays: per100(stuckUnexplained, totalSec),
    },
    outages: { outages: outages.length, alarms: outageAlarms, expectedByChance: chance },
    unexplainedTop: [...perStation.entries()]
      .map(([stationId, s]) => ({
        stationId,
        alarms: s.alarms,
        alarmHours: s.alarmSec / 3600,
        eventsPerHour: expByStation.get(stationId)?.eventsPerHour ?? 0,
      }))
      .sort((a, b) => b.alarms - a.alarms || b.alarmHours - a.alarmHours)
      .slice(0, 10),
    outcomes,
  };
}

/** An episode that starts inside a fault window or its late margin at its station. */
function isCaused(e: AlarmEpisode, faults: readonly StationFault[], lateSec: number): boolean {
  return faults.some(
    (f) => f.stationId === e.stationId && e.startSec >= f.startSec && e.startSec < f.endSec + lateSec,
  );
}

/** An episode that starts inside the window of a fault of its own family at its station. */
function isHit(e: AlarmEpisode, faults: readonly StationFault[]): boolean {
  return faults.some(
    (f) =>
      f.stationId === e.stationId &&
      familyOf(f.kind) === e.family &&
      e.startSec >= f.startSec &&
      e.startSec < f.endSec,
  );
}

function ratesOf(
  list: FaultOutcome[],
  hood: Map<number, { alarms: number; falses: number }>,
  right: Record<StationFaultKind, DetectedState>,
): Rates {
  const scored = list.filter((o) => !o.masked);
  const delays = scored.flatMap((o) => (o.delaySec === null ? [] : [o.delaySec])).sort((a, b) => a - b);
  let alarms = 0;
  let falses = 0;
  for (const o of list) {
    const h = hood.get(o.faultId);
    if (h) {
      alarms += h.alarms;
      falses += h.falses;
    }
  }
  return {
    faults: list.length,
    masked: list.length - scored.length,
    detected: delays.length,
    recall: scored.length > 0 ? delays.length / scored.length : null,
    rightState: scored.filter((o) => o.state === right[o.kind]).length,
    alarms,
    falseInNeighbourhood: falses,
    precision: alarms > 0 ? (alarms - falses) / alarms : null,
    delayMedianSec: quantile(delays, 0.5),
    delayP90Sec: quantile(delays, 0.9),
    delayAfterDueMedianSec: quantile(
      scored.flatMap((o) => (o.delayAfterDueSec === null ? [] : [o.delayAfterDueSec])).sort((a, b) => a - b),
      0.5,
    ),
  };
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
