/**
 * The app's shared, live picture of the stations: loaded once from /stations (cached by the
 * browser with its ETag), then patched by the Server-Sent Events stream.
 */
import {
  apiUrl,
  getJson,
  type StateChangeOut,
  type Station,
  type StationsResponse,
  type StateCounts,
} from './api.js';
import { stationsFromColumns } from '../../src/api/station-table.js';

export interface StationsState {
  timeSec: number;
  counts: StateCounts;
  list: Station[];
  byCode: Map<string, Station>;
}

let state: StationsState | null = null;
let loading: Promise<StationsState> | null = null;
const stationListeners = new Set<(changed: Station[]) => void>();
const changeListeners = new Set<(change: StateChangeOut) => void>();
const liveListeners = new Set<(connected: boolean) => void>();

export function stations(): Promise<StationsState> {
  if (state) return Promise.resolve(state);
  loading ??= reload();
  return loading;
}

async function reload(): Promise<StationsState> {
  try {
    const body = await getJson<StationsResponse>('/stations');
    const list = stationsFromColumns(body.stations);
    const next = {
      timeSec: body.timeSec,
      counts: body.counts,
      list,
      byCode: new Map(list.map((s) => [s.code, s])),
    };
    // In place: pages hold on to the object they got.
    if (state) Object.assign(state, next);
    else state = next;
    for (const l of stationListeners) l(list);
    return state;
  } finally {
    loading = null;
  }
}

/** Listeners get the stations that changed (patched in place). Returns the unsubscribe function. */
export function onStations(listener: (changed: Station[]) => void): () => void {
  stationListeners.add(listener);
  return () => stationListeners.delete(listener);
}

export function onStateChange(listener: (change: StateChangeOut) => void): () => void {
  changeListeners.add(listener);
  return () => changeListeners.delete(listener);
}

export function onLive(listener: (connected: boolean) => void): void {
  liveListeners.add(listener);
}

interface Delta {
  code: string;
  bikes: Station['bikes'];
  docks: number;
  blockedDocks: number;
  state: Station['state'];
  since: number | null;
  lastActivity: number | null;
}

export function startLive(): void {
  if (typeof EventSource === 'undefined') return;
  const es = new EventSource(apiUrl('/live'));
  let hellos = 0;
  es.addEventListener('hello', () => {
    for (const l of liveListeners) l(true);
    // After a reconnection we may have missed deltas: take a fresh picture.
    if (hellos++ > 0 && state) void reload().catch(() => undefined);
  });
  es.addEventListener('error', () => {
    for (const l of liveListeners) l(false);
  });
  es.addEventListener('stations', (ev) => {
    if (!state) return;
    const msg = JSON.parse((ev as MessageEvent<string>).data) as {
      timeSec: number;
      counts: StateCounts;
      stations: Delta[];
    };
    state.timeSec = msg.timeSec;
    state.counts = msg.counts;
    const changed: Station[] = [];
    for (const d of msg.stations) {
      const s = state.byCode.get(d.code);
      if (!s) continue;
      s.bikes = d.bikes;
      s.docks = d.docks;
      s.blockedDocks = d.blockedDocks;
      s.state = d.state;
      s.since = d.since;
      s.lastActivity = d.lastActivity;
      changed.push(s);
    }
    for (const l of stationListeners) l(changed);
  });
  es.addEventListener('state-change', (ev) => {
    const change = JSON.parse((ev as MessageEvent<string>).data) as StateChangeOut;
    for (const l of changeListeners) l(change);
  });
}
