import type { LoggedEvent } from '../events/types.js';

/**
 * What we conclude from behaviour. Kept apart from what the feed itself declares (DeclaredState):
 * a station the feed says is closed is `closed`, never `locked`.
 */
export const DETECTED_STATES = [
  'learning', // not enough history yet to judge (cold start)
  'ok',
  'locked', // neither rentals nor returns happen although they should
  'rent_blocked', // bikes cannot leave (returns still happen)
  'return_blocked', // bikes cannot be docked (rentals still happen)
  'bikes_stuck', // some bikes of a type never leave while others are rented
  'docks_blocked', // some free docks never take a bike while returns go on
] as const;
export type DetectedState = (typeof DETECTED_STATES)[number];

export const DECLARED_STATES = ['open', 'closed', 'not_renting', 'not_returning', 'inactive'] as const;
/** closed = not installed; inactive = installed but neither renting nor returning. */
export type DeclaredState = (typeof DECLARED_STATES)[number];

/** The single state shown to people: the feed's word when it declares a problem, else our detection. */
export type StationState = DetectedState | Exclude<DeclaredState, 'open'>;

export interface Evidence {
  /** Activity (rentals + returns) expected since the last observed activity, already scaled. */
  expected: number;
  /** Activity observed over the same span. */
  observed: number;
  /** Seconds since the last activity, blind time excluded. */
  inactiveSec: number;
  /** Detector-specific numbers (ratio, missing activity, p-value…). */
  [key: string]: number;
}

export interface StateChange {
  system: string;
  stationId: string;
  timeSec: number;
  from: StationState;
  to: StationState;
  detector: string;
  /** 0..1; 1 for changes the feed declares. */
  confidence: number;
  /** Short machine-readable reason, e.g. `missing_activity`, `activity_resumed`, `feed_declared`. */
  reason: string;
  evidence: Evidence | null;
  /** Offset of the event that caused it: makes appends idempotent and restarts exact. */
  offset: number;
}

/** Read access to learned usual activity, given to detectors. */
export interface ActivityView {
  /** Rentals + returns (or one of them) for a station in the 10-min slot containing `timeSec`, `daysAgo` days back. */
  slotCount(stationId: string, timeSec: number, daysAgo: number, kind?: 'rented' | 'returned'): number;
  /** Days of history recorded for this station (blind days excluded). */
  historyDays(stationId: string, timeSec: number): number;
  /** The system time zone slot index (0..143) of `timeSec`. */
  slotOf(timeSec: number): number;
  /**
   * Optional bulk read for hot paths, same numbers as `slotCount`: for each i, writes to `out[i]`
   * the rentals + returns of the `slots` ten-minute slots containing timeSec, timeSec − 600, …,
   * `daysAgo[i]` days back.
   */
  windowCounts?(
    stationId: string,
    timeSec: number,
    slots: number,
    daysAgo: readonly number[],
    out: Float64Array,
  ): void;
}

/**
 * A detector is a deterministic function of the event stream (plus the activity model's past):
 * feed it the same events, it emits the same state changes. That is what makes replay, restarts
 * after kill -9 and the backtest exact.
 */
export interface Detector {
  readonly name: string;
  /** Handle one logged event in offset order; return the detected-state changes it causes. */
  handle(event: LoggedEvent, activity: ActivityView): StateChange[];
  /** Current detected state per station (for the API and for checkpoints). */
  states(): Map<string, { state: DetectedState; sinceSec: number; confidence: number }>;
  /** Serialise / restore everything `handle` depends on (checkpointing). Must round-trip exactly. */
  saveState(): unknown;
  restoreState(state: unknown): void;
}

export type DetectorFactory = (opts: { system: string; minHistoryDays: number }) => Detector;
