import type { StationInfo, StationStatus, StatusDocument } from '../feed/model.js';
import type { DiffState } from '../storage/types.js';
import type { CountsAfter, FeedEvent } from './types.js';

export interface DiffOptions {
  /** A longer silence between two accepted documents means the watcher was blind (feed_gap). */
  gapThresholdSec: number;
  /** station_information known at the time, to describe added stations. */
  info?: Map<string, StationInfo>;
  /** Stations the parser dropped from this document: absent, but not removed. */
  rejectedStationIds?: Set<string>;
}

export interface DiffResult {
  events: FeedEvent[];
  /** Stations whose stored status must be updated (any field changed, lastReportedSec included). */
  changed: StationStatus[];
  /** Ids of stations removed by this document. */
  removed: string[];
}

function countsAfter(s: StationStatus): CountsAfter {
  return {
    bikes: { mechanical: s.bikes.mechanical, electric: s.bikes.electric, other: s.bikes.other },
    docksAvailable: s.docksAvailable,
    bikesDisabled: s.bikesDisabled,
    docksDisabled: s.docksDisabled,
  };
}

/**
 * Events revealed by one station_status document, compared with the producer's last accepted state.
 * Pure: `prev` is not modified; apply the result with `applyDiff`.
 *
 * Order (deterministic): feed_gap + feed_resumed (if any), then per station in document order
 * (station_added | rented/returned by bike type, availability_changed, status_changed by flag), then
 * station_removed in id order, then one `snapshot` that closes the document.
 * Precondition: station ids are unique in `next` (the parser drops duplicates).
 */
export function diffSnapshots(
  system: string,
  prev: DiffState,
  next: StatusDocument,
  opts: DiffOptions,
): DiffResult {
  const timeSec = next.lastUpdatedSec;
  const prevSec = prev.lastDocumentSec;
  // Same timestamp again (feed not refreshed) or an older one: nothing new happened.
  if (prevSec !== null && timeSec <= prevSec) return { events: [], changed: [], removed: [] };

  const events: FeedEvent[] = [];
  const changed: StationStatus[] = [];
  if (prevSec !== null && timeSec - prevSec > opts.gapThresholdSec) {
    events.push({ system, timeSec, type: 'feed_gap', fromSec: prevSec });
    events.push({ system, timeSec, type: 'feed_resumed', gapSec: timeSec - prevSec });
  }

  const prevStations = prev.stations;
  let matched = 0;
  for (const s of next.stations) {
    const p = prevStations.get(s.stationId);
    if (p === undefined) {
      changed.push(s);
      events.push({
        system,
        timeSec,
        type: 'station_added',
        stationId: s.stationId,
        after: countsAfter(s),
        flags: { installed: s.isInstalled, renting: s.isRenting, returning: s.isReturning },
        info: opts.info?.get(s.stationId) ?? null,
      });
      continue;
    }
    matched++;
    diffStation(system, timeSec, p, s, events, changed);
  }

  const removed: string[] = [];
  // Fast path: every previous station is still there, no set of ids needed.
  if (matched !== prevStations.size) {
    const present = new Set<string>();
    for (const s of next.stations) present.add(s.stationId);
    const rejected = opts.rejectedStationIds;
    for (const id of prevStations.keys()) {
      // A station the parser rejected this time is still there: keep its last good status.
      if (!present.has(id) && !(rejected !== undefined && rejected.has(id))) removed.push(id);
    }
    removed.sort();
    for (const stationId of removed) events.push({ system, timeSec, type: 'station_removed', stationId });
  }

  events.push({
    system,
    timeSec,
    type: 'snapshot',
    stations: next.stations.length,
    intervalSec: prevSec === null ? null : timeSec - prevSec,
  });
  return { events, changed, removed };
}

/** Compares two statuses of one station field by field; allocates only when something changed. */
function diffStation(
  system: string,
  timeSec: number,
  p: StationStatus,
  s: StationStatus,
  events: FeedEvent[],
  changed: StationStatus[],
): void {
  const pb = p.bikes;
  const sb = s.bikes;
  const dMech = sb.mechanical - pb.mechanical;
  const dElec = sb.electric - pb.electric;
  const dOther = sb.other - pb.other;
  const bikesMoved = dMech !== 0 || dElec !== 0 || dOther !== 0;
  const othersMoved =
    s.docksAvailable !== p.docksAvailable ||
    s.bikesDisabled !== p.bikesDisabled ||
    s.docksDisabled !== p.docksDisabled;
  const flagsMoved =
    s.isInstalled !== p.isInstalled || s.isRenting !== p.isRenting || s.isReturning !== p.isReturning;
  if (!bikesMoved && !othersMoved && !flagsMoved) {
    if (s.lastReportedSec !== p.lastReportedSec || s.code !== p.code) changed.push(s);
    return;
  }
  changed.push(s);
  const after = countsAfter(s);
  const stationId = s.stationId;
  if (bikesMoved) {
    // A fall is a rental, a rise a return: the net change of the interval (see docs/events.md).
    if (dMech !== 0) {
      events.push({
        system,
        timeSec,
        stationId,
        after,
        type: dMech < 0 ? 'rented' : 'returned',
        bikeType: 'mechanical',
        count: Math.abs(dMech),
      });
    }
    if (dElec !== 0) {
      events.push({
        system,
        timeSec,
        stationId,
        after,
        type: dElec < 0 ? 'rented' : 'returned',
        bikeType: 'electric',
        count: Math.abs(dElec),
      });
    }
    if (dOther !== 0) {
      events.push({
        system,
        timeSec,
        stationId,
        after,
        type: dOther < 0 ? 'rented' : 'returned',
        bikeType: 'other',
        count: Math.abs(dOther),
      });
    }
  } else if (othersMoved) {
    events.push({ system, timeSec, stationId, after, type: 'availability_changed' });
  }
  if (flagsMoved) {
    if (s.isInstalled !== p.isInstalled) {
      events.push({
        system,
        timeSec,
        stationId,
        after,
        type: 'status_changed',
        flag: 'installed',
        from: p.isInstalled,
        to: s.isInstalled,
      });
    }
    if (s.isRenting !== p.isRenting) {
      events.push({
        system,
        timeSec,
        stationId,
        after,
        type: 'status_changed',
        flag: 'renting',
        from: p.isRenting,
        to: s.isRenting,
      });
    }
    if (s.isReturning !== p.isReturning) {
      events.push({
        system,
        timeSec,
        stationId,
        after,
        type: 'status_changed',
        flag: 'returning',
        from: p.isReturning,
        to: s.isReturning,
      });
    }
  }
}

/** Applies a diff result to the producer's in-memory state (the same update `Store.commitDiff` persists). */
export function applyDiff(state: DiffState, documentSec: number, result: DiffResult): void {
  if (state.lastDocumentSec !== null && documentSec <= state.lastDocumentSec) return;
  state.lastDocumentSec = documentSec;
  for (const s of result.changed) state.stations.set(s.stationId, s);
  for (const id of result.removed) state.stations.delete(id);
}

/** An empty producer state: the next document is the first one ever. */
export function emptyDiffState(): DiffState {
  return { lastDocumentSec: null, stations: new Map(), capacities: new Map() };
}
