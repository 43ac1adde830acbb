import type { BikeCounts, BikeType, StationInfo } from '../feed/model.js';

/**
 * Events are what a diff of two consecutive station_status documents reveals.
 * `timeSec` is always the timestamp of the document that revealed the change (not wall-clock time),
 * so that replay and live watch produce identical logs.
 *
 * A net change hides simultaneous moves: one rental and one return of the same type inside one
 * poll interval leave the count unchanged and produce no event. See docs/events.md.
 */

/** Counts of a station after the change, carried by every station event so consumers need no lookup. */
export interface CountsAfter {
  bikes: BikeCounts;
  docksAvailable: number;
  bikesDisabled: number;
  docksDisabled: number;
}

export type StatusFlag = 'installed' | 'renting' | 'returning';

interface Base {
  system: string;
  timeSec: number;
}

interface StationBase extends Base {
  stationId: string;
  after: CountsAfter;
}

export type FeedEvent =
  | (StationBase & { type: 'rented' | 'returned'; bikeType: BikeType; count: number })
  /** Docks / disabled counts moved with no bike movement (a dock repaired, a bike reported broken). */
  | (StationBase & { type: 'availability_changed' })
  | (StationBase & {
      type: 'station_added';
      flags: Record<StatusFlag, boolean>;
      /** From station_information when known at the time. */
      info: StationInfo | null;
    })
  | (Base & { type: 'station_removed'; stationId: string })
  | (StationBase & { type: 'status_changed'; flag: StatusFlag; from: boolean; to: boolean })
  | (Base & { type: 'capacity_changed'; stationId: string; from: number | null; to: number | null })
  /** One per accepted document: time advanced. `intervalSec` since the previous accepted document. */
  | (Base & { type: 'snapshot'; stations: number; intervalSec: number | null })
  /** No fresh document from `fromSec` to `timeSec`: the watcher was blind; never counts as inactivity. */
  | (Base & { type: 'feed_gap'; fromSec: number })
  | (Base & { type: 'feed_resumed'; gapSec: number });

export type EventType = FeedEvent['type'];

/** An event once in the durable log. Offsets are strictly increasing, gapless per log. */
export type LoggedEvent = FeedEvent & { offset: number };

/** Identity used for idempotent appends: the same document diffed twice appends nothing new. */
export function eventKey(e: FeedEvent): string {
  const station = 'stationId' in e ? e.stationId : '';
  const sub =
    e.type === 'rented' || e.type === 'returned' ? e.bikeType : e.type === 'status_changed' ? e.flag : '';
  return `${e.system}|${station}|${e.timeSec}|${e.type}|${sub}`;
}
