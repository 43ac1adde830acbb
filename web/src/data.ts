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
  /** The server's snapshot version this picture is at (compared with what /live announces). */
  version: number;
  counts: StateCounts;
  list: Station[];
  byCode: Map<string, Station>;
}

let state: StationsState | null = null;
let loading: Promise<StationsState> | null = null;
/**
 * The newest snapshot version the live stream announced while no picture could be compared with
 * it (none yet, or one loading); checked once the picture arrives, then forgotten, so that
 * replicas with different version counters cause one extra load, never a loop.
 */
let announcedVersion: number | null = null;
const stationListeners = new Set<(changed: Station[]) => void>();
const changeListeners = new Set<(change: StateChangeOut) => void>();
const liveListeners = new Set<(connected: boolean) => void>();

export function stations(): Promise<StationsState> {
  if (state) return Promise.resolve(state);
  loading ??= reload(false);
  return loading;
}

async function reload(revalidate: boolean): Promise<StationsState> {
  try {
    const body = await getJson<StationsResponse>('/stations', { revalidate });
    const list = stationsFromColumns(body.stations);
    const next = {
      timeSec: body.timeSec,
      version: body.version,
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
    const announced = announcedVersion;
    announcedVersion = null;
    if (announced !== null && state && announced !== state.version) refresh();
  }
}

/** Takes a fresh picture from the server (revalidated with its ETag: cheap when unchanged). */
function refresh(): void {
  loading ??= reload(true);
  loading.catch(() => undefined);
}

/** The server's picture is at `version`: load it unless ours is the same (or is on its way). */
function announce(version: number): void {
  if (loading || !state) announcedVersion = version;
  else if (state.version !== version) refresh();
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
  es.addEventListener('hello', (ev) => {
    for (const l of liveListeners) l(true);
    // The stream only carries what changes from now on: if the picture we hold is not the one the
    // server has now (the stream connected after a change, or reconnected after missing some),
    // take a fresh one.
    announce((JSON.parse((ev as MessageEvent<string>).data) as { version: number }).version);
  });
  es.addEventListener('error', () => {
    for (const l of liveListeners) l(false);
  });
  es.addEventListener('stations', (ev) => {
    const msg = JSON.parse((ev as MessageEvent<string>).data) as {
      version: number;
      timeSec: number;
      counts: StateCounts;
      stations: Delta[];
    };
    if (!state || loading) {
      // The picture on its way may predate this update: checked when it arrives.
      announcedVersion = msg.version;
      return;
    }
    state.version = msg.version;
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
