/** Types of the API's answers (shared with the server, type-only) and fetch helpers. */
import type { StationColumns, StationListItem } from '../../src/api/station-table.js';
import type { StationView } from '../../src/api/station-view.js';

/** A station as in the list (the feed station_id and report time are on the station page only). */
export type Station = StationListItem;
export type Category = 'ok' | 'locked' | 'partial' | 'closed' | 'learning';
export type StateCounts = Record<Category, number>;

export interface StationsResponse {
  system: string;
  timeSec: number;
  version: number;
  count: number;
  counts: StateCounts;
  /** One array per property: decode with stationsFromColumns. */
  stations: StationColumns;
}

export interface StateChangeOut {
  id: number;
  code: string;
  stationId: string;
  name: string | null;
  timeSec: number;
  from: string;
  to: string;
  detector: string;
  confidence: number;
  reason: string;
}

export interface Activity {
  day: number;
  date: string;
  currentSlot: number;
  today: { rented: number[]; returned: number[] };
  usual: { rented: number[]; returned: number[]; days: number };
}

export interface ActivityResponse {
  timeSec: number;
  activity: Activity;
  totals: { rentedToday: number; returnedToday: number; usualRentedByNow: number };
  states: StateCounts;
  stations: number;
}

export interface StationDetail {
  timeSec: number;
  station: StationView;
  history: StateChangeOut[];
  activity: Activity;
}

export interface FeedHealth {
  lastDocumentSec: number | null;
  lastSuccessSec: number | null;
  stale: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  rejected: Record<string, number>;
}

export interface StatsResponse {
  timeSec: number;
  series: { timeSec: number; locked: number; partial: number }[];
  longestLocks: {
    code: string;
    name: string | null;
    fromSec: number;
    toSec: number | null;
    durationSec: number;
    ongoing: boolean;
  }[];
  health: FeedHealth | null;
}

export interface AppConfig {
  systemId: string;
  name: string;
  timezone: string;
  language: string;
  pollIntervalSec: number;
  tileUrl: string;
  tileAttribution: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** '' = the server's default system (/api/v1/…); else /systems/<id> (the system selector). */
let systemPrefix = '';

export function useSystem(id: string | null): void {
  systemPrefix = id === null ? '' : `/systems/${encodeURIComponent(id)}`;
}

/** URL of a per-system API path (/stations, /live, /exports/…) for the chosen system. */
export function apiUrl(path: string): string {
  return `/api/v1${systemPrefix}${path}`;
}

/** URL of the chosen system's Atom feeds (`/feeds`) or corrected GBFS (`/gbfs`): same selector. */
export function publishedUrl(root: '/feeds' | '/gbfs', path: string): string {
  return `${root}${systemPrefix}${path}`;
}

export interface SystemItem {
  id: string;
  name: string;
  /** The server's default system (the one of the unprefixed routes). */
  watched: boolean;
}

/** `revalidate`: ask the server even if the browser's copy is still fresh (ETag: 304 if unchanged). */
export async function getJson<T>(
  path: string,
  opts: { global?: boolean; revalidate?: boolean } = {},
): Promise<T> {
  const url = opts.global ? `/api/v1${path}` : apiUrl(path);
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    ...(opts.revalidate ? { cache: 'no-cache' as const } : {}),
  });
  if (!res.ok) {
    let code = 'http_error';
    let message = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { code?: string; message?: string };
      code = body.code ?? code;
      message = body.message ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new HttpError(res.status, code, message);
  }
  return (await res.json()) as T;
}

export function categoryOf(state: string): Category {
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

export const CATEGORIES: Category[] = ['ok', 'locked', 'partial', 'closed', 'learning'];
/** Marker colours; text on them is never needed (legend and popups carry the words). */
export const CATEGORY_COLOURS: Record<Category, string> = {
  ok: '#1a9850',
  locked: '#d7191c',
  partial: '#f57c00',
  closed: '#616161',
  learning: '#3f6fb5',
};
