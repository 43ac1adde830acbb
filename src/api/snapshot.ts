/**
 * The API's current picture of the system, rebuilt once per LiveBus version (snapshot or state
 * change) and shared by every request until the next one.
 */
import { OBSERVED_STATION_ID, localClock, localDaySlot } from '../activity/index.js';
import type { Logger } from '../log/index.js';
import type { StationStatus } from '../feed/model.js';
import { lastActivitySlots, type Store } from '../storage/index.js';
import type { LiveBus } from './live.js';
import { precompute, type PrecomputedBody } from './precomputed.js';
import { stationsToColumns, type StationListItem } from './station-table.js';
import {
  buildStationViews,
  categoryOf,
  stationDeltas,
  type StationDelta,
  type StationView,
} from './station-view.js';

export interface Snapshot {
  version: number;
  /** Document time the data describes (latest snapshot); wall clock only before any data. */
  timeSec: number;
  views: StationView[];
  byCode: Map<string, StationView>;
  byId: Map<string, StationView>;
  stations: PrecomputedBody;
  /** Built on first request for this snapshot. */
  geojson: Promise<PrecomputedBody> | null;
  /** The same once built (the hot path reads it without waiting). */
  geojsonBody: PrecomputedBody | null;
}

export interface SnapshotSource {
  store: Store;
  systemId: string;
  timezone: string;
  live: LiveBus;
  logger: Logger;
}

/**
 * Minimum gap between background rebuilds: a fast replay publishes thousands of snapshots a
 * second, and each rebuild compresses ~400 KB at brotli's best quality.
 */
const MIN_REBUILD_GAP_MS = 1000;

/**
 * The list omits what only the station page needs (feed station_id, last report time): both are
 * near-random digits that compress badly (~8 bytes a station) — `/stations/:code` has them.
 */
function listItem(v: StationView): StationListItem {
  const { id: _id, lastReported: _lastReported, ...rest } = v;
  return rest;
}

export class SnapshotCache {
  private snapshot: Snapshot | null = null;
  private inflight: Promise<Snapshot> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastStartMs = 0;
  private readonly unsubscribe: () => void;
  private readonly deltaListeners = new Set<(deltas: StationDelta[], snap: Snapshot) => void>();
  private closed = false;
  private lastActivityById: Map<string, number> | null = null;

  constructor(private readonly src: SnapshotSource) {
    this.unsubscribe = src.live.subscribe(() => this.scheduleRebuild());
  }

  /** The snapshot for the current LiveBus version (waits for at most one rebuild). */
  current(): Promise<Snapshot> {
    const snap = this.snapshot;
    if (snap && snap.version === this.src.live.version) return Promise.resolve(snap);
    return this.inflight ?? this.rebuild();
  }

  /** The snapshot for the current LiveBus version if it is built, else null (never waits). */
  ready(): Snapshot | null {
    const snap = this.snapshot;
    return snap && snap.version === this.src.live.version ? snap : null;
  }

  /** Called with the stations whose counts or state changed, after each rebuild. */
  onDeltas(listener: (deltas: StationDelta[], snap: Snapshot) => void): () => void {
    this.deltaListeners.add(listener);
    return () => this.deltaListeners.delete(listener);
  }

  geojson(snap: Snapshot): Promise<PrecomputedBody> {
    snap.geojson ??= precompute(toGeoJson(snap), 'application/geo+json; charset=utf-8', {
      bestBrotli: true,
    }).then((body) => (snap.geojsonBody = body));
    return snap.geojson;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private scheduleRebuild(): void {
    if (this.timer || this.closed) return;
    const waitMs = Math.max(0, this.lastStartMs + MIN_REBUILD_GAP_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.inflight) {
        // Try again once the running rebuild is done: it may predate the newest version.
        void this.inflight.finally(() => this.scheduleRebuild());
        return;
      }
      if (this.snapshot?.version !== this.src.live.version) void this.rebuild().catch(() => undefined);
    }, waitMs);
    this.timer.unref();
  }

  private rebuild(): Promise<Snapshot> {
    this.lastStartMs = Date.now();
    const version = this.src.live.version;
    const p = this.load(version)
      .then((snap) => {
        const prev = this.snapshot;
        if (!prev || snap.version >= prev.version) {
          this.snapshot = snap;
          if (prev) {
            prev.stations.superseded = true;
            void prev.geojson?.then((g) => (g.superseded = true));
          }
        }
        if (prev && this.deltaListeners.size > 0) {
          const deltas = stationDeltas(prev.byCode, snap.views);
          if (deltas.length > 0) for (const l of this.deltaListeners) l(deltas, snap);
        }
        return snap;
      })
      .catch((err: unknown) => {
        this.src.logger.error({ err }, 'api: could not rebuild the stations snapshot');
        // Keep serving the last good picture when there is one.
        if (this.snapshot) return this.snapshot;
        throw err;
      })
      .finally(() => {
        if (this.inflight === p) this.inflight = null;
      });
    this.inflight = p;
    return p;
  }

  private async load(version: number): Promise<Snapshot> {
    const { store, systemId, live } = this.src;
    const [infos, statuses, detected, health] = await Promise.all([
      store.listStationInfo(systemId),
      store.listStationStatus(systemId),
      store.listDetectedStates(systemId),
      store.feedHealth(systemId),
    ]);
    let timeSec = live.lastSnapshotSec ?? health?.lastDocumentSec ?? null;
    if (timeSec === null) {
      for (const s of statuses)
        if (s.lastReportedSec !== null && (timeSec === null || s.lastReportedSec > timeSec))
          timeSec = s.lastReportedSec;
    }
    timeSec ??= Math.floor(Date.now() / 1000);
    const lastActivity = await this.updateLastActivity(statuses, timeSec);
    const views = buildStationViews(infos, statuses, detected, lastActivity);
    const byCode = new Map<string, StationView>();
    const byId = new Map<string, StationView>();
    for (const v of views) {
      byCode.set(v.code, v);
      byId.set(v.id, v);
    }
    const counts = countByState(views);
    const stations = await precompute(
      {
        system: systemId,
        timeSec,
        version,
        count: views.length,
        counts,
        stations: stationsToColumns(views.map(listItem)),
      },
      undefined,
      { bestBrotli: true },
    );
    return { version, timeSec, views, byCode, byId, stations, geojson: null, geojsonBody: null };
  }

  /**
   * Last rental or return per station. Read once from the activity store (slot resolution, today
   * and yesterday), then kept up to date from the snapshots themselves: a station whose bike
   * counts moved between two snapshots had activity at the newer one. That avoids re-reading
   * ~100 k activity rows (a synchronous SQLite scan) at every snapshot.
   */
  private async updateLastActivity(statuses: StationStatus[], timeSec: number): Promise<Map<string, number>> {
    const prev = this.snapshot;
    if (!this.lastActivityById || !prev) {
      this.lastActivityById = await this.lastActivityFromStore(timeSec);
      return this.lastActivityById;
    }
    const map = this.lastActivityById;
    for (const s of statuses) {
      const v = prev.byId.get(s.stationId);
      if (!v) continue;
      if (
        v.bikes.mechanical !== s.bikes.mechanical ||
        v.bikes.electric !== s.bikes.electric ||
        v.bikes.other !== s.bikes.other
      ) {
        if (timeSec > (map.get(s.stationId) ?? 0)) map.set(s.stationId, timeSec);
      }
    }
    return map;
  }

  private async lastActivityFromStore(nowSec: number): Promise<Map<string, number>> {
    const { store, systemId, timezone } = this.src;
    const today = localDaySlot(nowSec, timezone).day;
    // One row per station from the store, not one per station and slot (~400,000 for two Vélib' days).
    const best = new Map<string, number>();
    for (const r of await lastActivitySlots(store, systemId, today - 1, today))
      if (r.stationId !== OBSERVED_STATION_ID) best.set(r.stationId, r.day * 144 + r.slot);
    const timeByKey = new Map<number, number>();
    const out = new Map<string, number>();
    for (const [id, key] of best) {
      let t = timeByKey.get(key);
      if (t === undefined) {
        t = Math.min(nowSec, localClock(timezone).utcOf(Math.floor(key / 144), (key % 144) * 10));
        timeByKey.set(key, t);
      }
      out.set(id, t);
    }
    return out;
  }
}

export function countByState(views: StationView[]): Record<string, number> {
  const counts: Record<string, number> = { ok: 0, locked: 0, partial: 0, closed: 0, learning: 0 };
  for (const v of views) counts[categoryOf(v.state)]! += 1;
  return counts;
}

function toGeoJson(snap: Snapshot): unknown {
  return {
    type: 'FeatureCollection',
    features: snap.views.map((v) => {
      const { lat, lon, ...properties } = listItem(v);
      return {
        type: 'Feature',
        id: v.code,
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties,
      };
    }),
  };
}
