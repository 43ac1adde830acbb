import type { InformationDocument, StationInfo, StatusDocument } from '../model.js';

/** The catalogue is refreshed by its ttl, but at least every hour and at most every minute. */
const MIN_REFRESH_MS = 60_000;
const MAX_REFRESH_MS = 3_600_000;

/**
 * What the watcher knows of station_information: the last catalogue, when to refresh it, and which
 * station ids it lacks.
 */
export class StationCatalogue {
  doc: InformationDocument | null = null;
  /** Capacities by station, for the status parser's plausibility checks. */
  capacities = new Map<string, number | null>();
  lastAttemptMs = -Infinity;
  dueMs = 0;
  private knownIds = new Set<string>();
  /** Unknown ids a refetch did not resolve: no further refetch for them before the next ttl refresh. */
  private unresolvedIds = new Set<string>();

  /** Keep `doc` if its stations differ from the current ones; true when it is new. */
  accept(doc: InformationDocument): boolean {
    if (this.doc && sameStations(this.doc, doc)) return false;
    this.doc = doc;
    this.knownIds = new Set(doc.stations.map((s) => s.stationId));
    this.capacities = new Map(doc.stations.map((s) => [s.stationId, s.capacity]));
    return true;
  }

  /** Plan the next refresh after an attempt at `nowMs`; `ttlSec` null: keep the current document's. */
  scheduleRefresh(nowMs: number, ttlSec: number | null = this.doc?.ttlSec ?? null): void {
    const ttlMs = (ttlSec ?? 3600) * 1000;
    this.dueMs = nowMs + Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, ttlMs));
  }

  /** A ttl refresh gives every unknown id another chance. */
  forgetUnresolved(): void {
    this.unresolvedIds.clear();
  }

  /** Whether `status` names a station the catalogue lacks and no refetch has looked for yet. */
  lacksStationOf(status: StatusDocument): boolean {
    for (const s of status.stations) {
      if (!this.knownIds.has(s.stationId) && !this.unresolvedIds.has(s.stationId)) return true;
    }
    return false;
  }

  /** After a refetch: the ids of `status` still missing stop triggering refetches. */
  markUnresolved(status: StatusDocument): void {
    for (const s of status.stations) if (!this.knownIds.has(s.stationId)) this.unresolvedIds.add(s.stationId);
  }

  /** A refetch for unknown stations, at most once a minute. */
  mayRefetchAt(nowMs: number): boolean {
    return nowMs - this.lastAttemptMs >= MIN_REFRESH_MS;
  }
}

/**
 * Feeds bump `last_updated` on every request (Lyft: every 5 s) although the stations change a few
 * times a day; comparing content lets the watcher deliver (and the recorder store) only real changes,
 * as in the shared Bay Wheels recording ("only those whose content changed").
 */
export function sameStations(a: InformationDocument, b: InformationDocument): boolean {
  if (a.stations.length !== b.stations.length) return false;
  for (let i = 0; i < a.stations.length; i++) {
    if (!sameStation(a.stations[i]!, b.stations[i]!)) return false;
  }
  return true;
}

function sameStation(a: StationInfo, b: StationInfo): boolean {
  return (
    a.stationId === b.stationId &&
    a.code === b.code &&
    a.name === b.name &&
    a.lat === b.lat &&
    a.lon === b.lon &&
    a.capacity === b.capacity
  );
}
