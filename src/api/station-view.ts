/**
 * The station as the API shows it: static info + live status + detected state, merged once per
 * snapshot (never per request).
 */
import {
  declaredStateOf as declaredFromFlags,
  type DeclaredState,
  type StationState,
} from '../detection/index.js';
import type { StationInfo, StationStatus } from '../feed/model.js';
import type { DetectedStateRow } from '../storage/types.js';

export interface StationView {
  code: string;
  id: string;
  name: string;
  lat: number;
  lon: number;
  capacity: number | null;
  bikes: { mechanical: number; electric: number; other: number };
  /** Docks free to return a bike. */
  docks: number;
  /** capacity − bikes − free docks − disabled docks, never negative: docks nobody can use nor repair-flagged. */
  blockedDocks: number;
  bikesDisabled: number;
  docksDisabled: number;
  declared: DeclaredState;
  /** The detector's stored state (learning when it has not judged the station yet). */
  detected: StationState;
  /** What people see: the feed's word when it declares a problem, else our detection. */
  state: StationState;
  since: number | null;
  confidence: number | null;
  detector: string | null;
  lastActivity: number | null;
  lastReported: number | null;
}

/** Map legend groups: ok, locked, partial (partly locked), closed (feed-declared), learning. */
export type StateCategory = 'ok' | 'locked' | 'partial' | 'closed' | 'learning';

export function categoryOf(state: StationState): StateCategory {
  switch (state) {
    case 'ok':
      return 'ok';
    case 'locked':
      return 'locked';
    case 'rent_blocked':
    case 'return_blocked':
    case 'bikes_stuck':
    case 'docks_blocked':
      return 'partial';
    case 'learning':
      return 'learning';
    default:
      return 'closed';
  }
}

export function declaredStateOf(s: StationStatus): DeclaredState {
  return declaredFromFlags({ installed: s.isInstalled, renting: s.isRenting, returning: s.isReturning });
}

export function blockedDocksOf(capacity: number | null, s: StationStatus): number {
  if (capacity === null) return 0;
  const bikes = s.bikes.mechanical + s.bikes.electric + s.bikes.other + s.bikesDisabled;
  return Math.max(0, capacity - bikes - s.docksAvailable - s.docksDisabled);
}

const round5 = (x: number): number => Math.round(x * 1e5) / 1e5;

/**
 * Stations present in both station_information and the latest station_status, sorted by code.
 * A station without information has no name nor position: it cannot be shown.
 */
export function buildStationViews(
  infos: StationInfo[],
  statuses: StationStatus[],
  detected: DetectedStateRow[],
  lastActivity: Map<string, number>,
): StationView[] {
  const infoById = new Map(infos.map((i) => [i.stationId, i]));
  const detectedById = new Map(detected.map((d) => [d.stationId, d]));
  const views: StationView[] = [];
  for (const s of statuses) {
    const info = infoById.get(s.stationId);
    if (!info) continue;
    const row = detectedById.get(s.stationId);
    const declared = declaredStateOf(s);
    const detectedState: StationState = row?.state ?? 'learning';
    views.push({
      code: info.code || s.code || s.stationId,
      id: s.stationId,
      name: info.name,
      lat: round5(info.lat),
      lon: round5(info.lon),
      capacity: info.capacity,
      bikes: { mechanical: s.bikes.mechanical, electric: s.bikes.electric, other: s.bikes.other },
      docks: s.docksAvailable,
      blockedDocks: blockedDocksOf(info.capacity, s),
      bikesDisabled: s.bikesDisabled,
      docksDisabled: s.docksDisabled,
      declared,
      detected: detectedState,
      state: declared === 'open' ? detectedState : declared,
      since: row?.sinceSec ?? null,
      confidence: row ? Math.round(row.confidence * 1000) / 1000 : null,
      detector: row?.detector ?? null,
      lastActivity: lastActivity.get(s.stationId) ?? null,
      lastReported: s.lastReportedSec,
    });
  }
  views.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return views;
}

/** Compact per-station counts pushed over SSE when a station changed between two snapshots. */
export interface StationDelta {
  code: string;
  bikes: StationView['bikes'];
  docks: number;
  blockedDocks: number;
  state: StationState;
  since: number | null;
  lastActivity: number | null;
}

export function stationDeltas(prev: Map<string, StationView>, next: StationView[]): StationDelta[] {
  const out: StationDelta[] = [];
  for (const v of next) {
    const p = prev.get(v.code);
    if (
      p &&
      p.bikes.mechanical === v.bikes.mechanical &&
      p.bikes.electric === v.bikes.electric &&
      p.bikes.other === v.bikes.other &&
      p.docks === v.docks &&
      p.blockedDocks === v.blockedDocks &&
      p.state === v.state &&
      p.since === v.since &&
      p.lastActivity === v.lastActivity
    )
      continue;
    out.push({
      code: v.code,
      bikes: v.bikes,
      docks: v.docks,
      blockedDocks: v.blockedDocks,
      state: v.state,
      since: v.since,
      lastActivity: v.lastActivity,
    });
  }
  return out;
}
