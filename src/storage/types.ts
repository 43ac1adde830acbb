import type { FeedEvent, LoggedEvent } from '../events/types.js';
import type { StationInfo, StationStatus } from '../feed/model.js';
import type { StateChange, StationState } from '../detection/types.js';

/**
 * Storage behind interfaces, so that SQLite (embedded default), PostgreSQL and DynamoDB plug in
 * without touching the pipeline. Every adapter passes the same contract suite
 * (test/storage/contract.ts).
 *
 * Exactly-once rule: each consumer commits its effects and its offset in one atomic step
 * (or its effects are idempotent and committed before the offset). After kill -9 it resumes at its
 * committed offset and re-does the same work: nothing lost, nothing counted twice.
 */

export interface SystemRecord {
  id: string;
  name: string;
  feedUrl: string;
  timezone: string;
}

/** What a watcher knows of a feed's health; shown by GET /systems and /readyz. */
export interface FeedHealth {
  system: string;
  lastDocumentSec: number | null;
  lastPollSec: number | null;
  lastSuccessSec: number | null;
  stale: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  /** Rejected inputs by reason code since the process started. */
  rejected: Record<string, number>;
}

/** The producer's memory: the last accepted document of a system, to diff the next one against. */
export interface DiffState {
  lastDocumentSec: number | null;
  stations: Map<string, StationStatus>;
  capacities: Map<string, number | null>;
}

/** An append-only, durable event log with one committed offset per named consumer. */
export interface EventLog {
  /**
   * Append idempotently by `eventKey`: an event already in the log is skipped. Returns the events
   * actually appended, with their offsets, in order.
   */
  append(events: FeedEvent[]): Promise<LoggedEvent[]>;
  /** Events with offset > afterOffset, oldest first, at most `limit`. */
  read(afterOffset: number, limit: number): Promise<LoggedEvent[]>;
  /** Highest offset in the log, 0 when empty. */
  lastOffset(): Promise<number>;
  /** Committed offset of a consumer, 0 when it never committed. */
  consumerOffset(consumer: string): Promise<number>;
  commitOffset(consumer: string, offset: number): Promise<void>;
}

/** Rentals / returns counted in one 10-minute slot of one local day. */
export interface SlotCount {
  stationId: string;
  /** Local calendar day in the system's time zone, as days since 1970-01-01. */
  day: number;
  /** 0..143, ten-minute slot of the local day. */
  slot: number;
  rented: number;
  returned: number;
}

/** Rentals / returns of many stations summed over one slot of one local day. */
export interface SlotTotal {
  day: number;
  slot: number;
  rented: number;
  returned: number;
}

/** One slot of one station. */
export interface StationSlot {
  stationId: string;
  day: number;
  slot: number;
}

export interface StateChangeQuery {
  system?: string;
  stationId?: string;
  state?: string;
  sinceSec?: number;
  untilSec?: number;
  /** Pagination cursor: return changes with id < beforeId (newest first). */
  beforeId?: number;
  limit: number;
}

export type StoredStateChange = StateChange & { id: number };

export interface DetectedStateRow {
  stationId: string;
  state: StationState;
  sinceSec: number;
  confidence: number;
  detector: string;
}

export interface Store {
  readonly log: EventLog;
  /**
   * Run several commits as one unit where the backend can (SQLite: one transaction, for replay
   * speed); elsewhere simply runs `fn`. Atomic either way from the pipeline's point of view:
   * after a crash, work of an unfinished batch is redone.
   */
  batch<T>(fn: () => Promise<T>): Promise<T>;
  /** Apply pending versioned migrations. Safe to call at every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  upsertSystem(system: SystemRecord): Promise<void>;
  listSystems(): Promise<SystemRecord[]>;
  saveFeedHealth(health: FeedHealth): Promise<void>;
  feedHealth(system: string): Promise<FeedHealth | null>;

  saveStationInfo(system: string, stations: StationInfo[]): Promise<void>;
  listStationInfo(system: string): Promise<StationInfo[]>;

  loadDiffState(system: string): Promise<DiffState>;
  /**
   * The producer's step: append the events of one document and save the new diff state (only the
   * stations given in `changed`, plus removals) — atomically where the backend allows, else
   * append first (idempotent) then state.
   */
  commitDiff(
    system: string,
    events: FeedEvent[],
    update: {
      lastDocumentSec: number;
      changed: StationStatus[];
      removed: string[];
      capacities: Map<string, number | null>;
    },
  ): Promise<LoggedEvent[]>;
  listStationStatus(system: string): Promise<StationStatus[]>;

  /** Add slot increments and move the consumer's offset, atomically. */
  commitActivity(system: string, consumer: string, offset: number, increments: SlotCount[]): Promise<void>;
  /** Slots of local days >= fromDay (and <= toDay when given), optionally of one station. */
  loadActivity(system: string, fromDay: number, toDay?: number, stationId?: string): Promise<SlotCount[]>;
  /**
   * Rentals and returns of all stations but `excludeStationIds`, summed per local day and slot of
   * [fromDay, toDay]: at most 144 rows a day, where loadActivity returns one row per station and
   * slot (~200,000 a day for Vélib'). Optional: without it, `activityTotals()` sums loadActivity.
   */
  activityTotals?(
    system: string,
    fromDay: number,
    toDay: number,
    excludeStationIds: readonly string[],
  ): Promise<SlotTotal[]>;
  /**
   * Per station, its latest slot of [fromDay, toDay] with a rental or a return (one row per
   * station). Optional: without it, `lastActivitySlots()` scans loadActivity.
   */
  lastActivitySlots?(system: string, fromDay: number, toDay: number): Promise<StationSlot[]>;
  /**
   * Calls `visit` with each slot of [fromDay, toDay] as it is read, holding none of them: a
   * restart's memory stays that of one row, not of a day's ~200,000. `visit` must not call the
   * store. Optional: without it, `scanActivity()` goes through loadActivity.
   */
  scanActivity?(
    system: string,
    fromDay: number,
    toDay: number,
    visit: (slot: SlotCount) => void,
  ): Promise<void>;

  /** Detector checkpoint: offset processed + serialised detector state. */
  loadCheckpoint(consumer: string): Promise<{ offset: number; state: unknown } | null>;
  /**
   * Append state changes (idempotent by system, station, detector, offset, to) and, when given,
   * save a checkpoint at `offset` — atomically.
   */
  commitDetection(
    consumer: string,
    offset: number,
    changes: StateChange[],
    checkpoint?: unknown,
  ): Promise<void>;
  saveDetectedStates(system: string, rows: DetectedStateRow[]): Promise<void>;
  listDetectedStates(system: string): Promise<DetectedStateRow[]>;
  listStateChanges(query: StateChangeQuery): Promise<StoredStateChange[]>;

  /** Retention: drop events, state changes and activity older than the limits. Returns rows deleted. */
  prune(opts: {
    eventsBeforeSec: number;
    stateChangesBeforeSec: number;
    activityBeforeDay: number;
  }): Promise<number>;
}
