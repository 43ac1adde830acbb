/**
 * Which faults a backtest injects, where and when. Planning is pure and seeded: the same archive
 * summary and the same seed give the same plan.
 */
import type { BikeType } from '../feed/model.js';
import { createRng, type Rng } from './prng.js';

/** Station faults are named after the state a detector should reach. */
export const STATION_FAULT_KINDS = [
  'locked',
  'rent_blocked',
  'return_blocked',
  'stuck_bikes',
  'docks_blocked',
] as const;
export type StationFaultKind = (typeof STATION_FAULT_KINDS)[number];
/** Kinds drawn `faultsPerKind` times, before the outages (the first harness's plan, unchanged). */
const MAIN_KINDS = ['locked', 'rent_blocked', 'return_blocked', 'stuck_bikes'] as const;
export type FaultKind = StationFaultKind | 'outage';

export interface StationFault {
  id: number;
  kind: StationFaultKind;
  stationId: string;
  startSec: number;
  endSec: number;
  /** Busyness of the station in the real trace (rentals + returns per observed hour). */
  eventsPerHour: number;
  /** stuck_bikes: bikes that never leave; docks_blocked: free docks that never take a bike. */
  stuckBikes: number;
  /**
   * Filled by the harness from the real trace (ground truth, never shown to a detector): events the
   * station usually sees over this window (its day-type × hour profile), when the first one is due,
   * and the events the real trace actually had in the window (what the fault suppressed or kept).
   */
  expectedEvents?: number;
  firstExpectedSec?: number | null;
  realEvents?: number;
  /** stuck_bikes: real rentals of the pinned type the fault refused (0: it never showed). */
  deniedEvents?: number;
}

export interface OutageFault {
  id: number;
  kind: 'outage';
  startSec: number;
  endSec: number;
}

export type Fault = StationFault | OutageFault;

/** Busyness bands (events per hour) used to stratify the plan and to split the scores. */
export const BUSYNESS_BANDS = [
  { label: '<0.25/h', minPerHour: 0 },
  { label: '0.25-1/h', minPerHour: 0.25 },
  { label: '1-3/h', minPerHour: 1 },
  { label: '>=3/h', minPerHour: 3 },
] as const;

export function bandOf(eventsPerHour: number): number {
  let band = 0;
  for (let i = 1; i < BUSYNESS_BANDS.length; i++)
    if (eventsPerHour >= BUSYNESS_BANDS[i]!.minPerHour) band = i;
  return band;
}

/** What the planner needs to know of a station: from a first pass over the real trace. */
export interface StationSummary {
  stationId: string;
  eventsPerHour: number;
  firstSeenSec: number;
  lastSeenSec: number;
}

export interface PlanOptions {
  seed: number;
  /** Archive span. */
  startSec: number;
  endSec: number;
  /** No fault starts before startSec + warmupSec: detectors need history first. */
  warmupSec: number;
  faultsPerKind: number;
  outages: number;
  /**
   * docks_blocked faults (default 0), drawn after the outages so that every other fault of a seed
   * stays the same whether they are asked for or not. Their durations follow stuckMaxDurationSec.
   */
  blockedDocksFaults?: number;
  minDurationSec?: number; // default 1 h
  maxDurationSec?: number; // default 24 h
  /**
   * Longest stuck_bikes fault (default maxDurationSec). Stuck bikes matter over days; longer faults
   * are drawn with the same number of random draws, so the other kinds' faults stay the same.
   */
  stuckMaxDurationSec?: number;
  minOutageSec?: number; // default 10 min
  maxOutageSec?: number; // default 3 h
  /** Free time kept around each fault at a station (its precision neighbourhood). Default 24 h. */
  separationSec?: number;
}

const HOUR = 3600;

/**
 * Stations are drawn band by band in turn (stratified by busyness), start times uniformly, durations
 * log-uniformly. Faults at one station never overlap, nor come closer than `separationSec`, so every
 * alarm can be attributed to at most one fault.
 */
export function planFaults(stations: readonly StationSummary[], opts: PlanOptions): Fault[] {
  const rng = createRng(opts.seed);
  const minDur = opts.minDurationSec ?? HOUR;
  const maxDur = opts.maxDurationSec ?? 24 * HOUR;
  const sep = opts.separationSec ?? 24 * HOUR;
  const from = opts.startSec + opts.warmupSec;
  const byBand: StationSummary[][] = BUSYNESS_BANDS.map(() => []);
  const sorted = [...stations].sort((a, b) =>
    a.stationId < b.stationId ? -1 : a.stationId > b.stationId ? 1 : 0,
  );
  for (const s of sorted) byBand[bandOf(s.eventsPerHour)]!.push(s);
  const bands = byBand.map((list, i) => ({ list, i })).filter((b) => b.list.length > 0);
  const taken = new Map<string, Array<[number, number]>>();
  const faults: Fault[] = [];
  let id = 1;
  for (const kind of MAIN_KINDS) {
    for (let n = 0; n < opts.faultsPerKind; n++) {
      const band = bands[n % bands.length];
      if (!band) break;
      const longest = kind === 'stuck_bikes' ? (opts.stuckMaxDurationSec ?? maxDur) : maxDur;
      const placed = placeOne(rng, band.list, from, opts.endSec, minDur, longest, sep, taken);
      if (!placed) continue;
      faults.push({
        id: id++,
        kind,
        stationId: placed.station.stationId,
        startSec: placed.startSec,
        endSec: placed.endSec,
        eventsPerHour: placed.station.eventsPerHour,
        stuckBikes: kind === 'stuck_bikes' ? rng.int(1, 3) : 0,
      });
    }
  }
  const minOut = opts.minOutageSec ?? 600;
  const maxOut = opts.maxOutageSec ?? 3 * HOUR;
  const outages: Array<[number, number]> = [];
  for (let n = 0; n < opts.outages; n++) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const dur = Math.round(rng.logUniform(minOut, maxOut));
      const start = Math.round(rng.uniform(from, opts.endSec - dur));
      // Outages kept a day apart so that an alarm after one is attributed to that one only.
      if (outages.some(([s, e]) => start < e + sep && s < start + dur + sep)) continue;
      outages.push([start, start + dur]);
      faults.push({ id: id++, kind: 'outage', startSec: start, endSec: start + dur });
      break;
    }
  }
  for (let n = 0; n < (opts.blockedDocksFaults ?? 0); n++) {
    const band = bands[n % bands.length];
    if (!band) break;
    const longest = opts.stuckMaxDurationSec ?? maxDur;
    const placed = placeOne(rng, band.list, from, opts.endSec, minDur, longest, sep, taken);
    if (!placed) continue;
    faults.push({
      id: id++,
      kind: 'docks_blocked',
      stationId: placed.station.stationId,
      startSec: placed.startSec,
      endSec: placed.endSec,
      eventsPerHour: placed.station.eventsPerHour,
      stuckBikes: rng.int(1, 3),
    });
  }
  return faults;
}

function placeOne(
  rng: Rng,
  stations: StationSummary[],
  from: number,
  to: number,
  minDur: number,
  maxDur: number,
  sep: number,
  taken: Map<string, Array<[number, number]>>,
): { station: StationSummary; startSec: number; endSec: number } | null {
  for (let attempt = 0; attempt < 100; attempt++) {
    const station = rng.pick(stations);
    const dur = Math.round(rng.logUniform(minDur, maxDur));
    const lo = Math.max(from, station.firstSeenSec);
    const hi = Math.min(to, station.lastSeenSec) - dur;
    if (hi <= lo) continue;
    const start = Math.round(rng.uniform(lo, hi));
    const end = start + dur;
    const spans = taken.get(station.stationId) ?? [];
    if (spans.some(([s, e]) => start < e + sep && s < end + sep)) continue;
    spans.push([start, end]);
    taken.set(station.stationId, spans);
    return { station, startSec: start, endSec: end };
  }
  return null;
}

/** The bike type a stuck_bikes fault pins: the one the station holds most of when it starts. */
export function stuckTypeOf(bikes: Record<BikeType, number>): BikeType {
  return bikes.electric > bikes.mechanical
    ? bikes.electric >= bikes.other
      ? 'electric'
      : 'other'
    : bikes.mechanical >= bikes.other
      ? 'mechanical'
      : 'other';
}
