/**
 * What the corrected GBFS feed is built from: the watched feed as the store holds it (station
 * information, latest station status) joined with our detected state, with the detected locks
 * applied to the rental / return flags.
 */
import type { StationState } from '../../detection/index.js';
import { declaredStateOf } from '../../detection/index.js';
import type { StationInfo, StationStatus } from '../../feed/model.js';
import type { DetectedStateRow, Store } from '../../storage/index.js';

/** One station of the corrected feed: the feed's numbers, our flags. */
export interface CorrectedStation {
  info: StationInfo;
  status: StationStatus;
  /** The flags we publish: the feed's, with detected locks applied. */
  isRenting: boolean;
  isReturning: boolean;
  /** Shown state: the feed's word when it declares a problem, else our detection (as in the API). */
  state: StationState;
  /** 0..1; 1 when the feed itself declares the problem; null when nothing was judged yet. */
  confidence: number | null;
  /** Since when `state` holds (POSIX seconds), null when unknown. */
  sinceSec: number | null;
}

export interface GbfsSystem {
  /** Our system id (also the GBFS system_id). */
  id: string;
  name: string;
  timezone: string;
  /** Language of names and of the feed (BCP 47, e.g. `fr`). */
  language: string;
  /** GBFS 3.0 requires one; configure a real address for a public deployment. */
  feedContactEmail: string;
  /** OSM opening_hours syntax (GBFS 3.0). */
  openingHours: string;
}

export interface GbfsSource {
  system: GbfsSystem;
  /** Document time the data describes: the latest accepted station_status. */
  timeSec: number;
  /** How long until we poll again: the GBFS `ttl`. */
  ttlSec: number;
  stations: CorrectedStation[];
}

/**
 * The flags we publish. A lock we detected is a fact the feed does not show: a locked station
 * neither rents nor takes back bikes, a rent-blocked one keeps taking returns, and so on. The feed's
 * own `false` always stays `false`.
 */
export function correctedFlags(
  status: Pick<StationStatus, 'isRenting' | 'isReturning'>,
  detected: StationState | undefined,
): { isRenting: boolean; isReturning: boolean } {
  const rentLocked = detected === 'locked' || detected === 'rent_blocked';
  const returnLocked = detected === 'locked' || detected === 'return_blocked';
  return { isRenting: status.isRenting && !rentLocked, isReturning: status.isReturning && !returnLocked };
}

/** Joins information, status and detection; stations without information (no name, no position) are left out. */
export function correctStations(
  infos: readonly StationInfo[],
  statuses: readonly StationStatus[],
  detected: readonly DetectedStateRow[],
): CorrectedStation[] {
  const infoById = new Map(infos.map((i) => [i.stationId, i]));
  const detectedById = new Map(detected.map((d) => [d.stationId, d]));
  const out: CorrectedStation[] = [];
  for (const status of statuses) {
    const info = infoById.get(status.stationId);
    if (!info) continue;
    const row = detectedById.get(status.stationId);
    const declared = declaredStateOf({
      installed: status.isInstalled,
      renting: status.isRenting,
      returning: status.isReturning,
    });
    const flags = correctedFlags(status, row?.state);
    const byFeed = declared !== 'open';
    out.push({
      info,
      status,
      ...flags,
      state: byFeed ? declared : (row?.state ?? 'learning'),
      confidence: byFeed ? 1 : row ? Math.round(row.confidence * 1000) / 1000 : null,
      sinceSec: byFeed ? null : (row?.sinceSec ?? null),
    });
  }
  out.sort((a, b) =>
    a.info.stationId < b.info.stationId ? -1 : a.info.stationId > b.info.stationId ? 1 : 0,
  );
  return out;
}

export interface LoadGbfsOptions {
  systemId: string;
  timezone: string;
  language: string;
  ttlSec: number;
  feedContactEmail: string;
  openingHours: string;
  /** Latest document time the caller knows (the LiveBus), if any. */
  knownTimeSec?: number | null;
}

/** Reads the store once and builds the source of every GBFS document. */
export async function loadGbfsSource(store: Store, opts: LoadGbfsOptions): Promise<GbfsSource> {
  const [infos, statuses, detected, health, systems] = await Promise.all([
    store.listStationInfo(opts.systemId),
    store.listStationStatus(opts.systemId),
    store.listDetectedStates(opts.systemId),
    store.feedHealth(opts.systemId),
    store.listSystems(),
  ]);
  const record = systems.find((s) => s.id === opts.systemId);
  // Honest last_updated: the newest document we accepted (the bus knows it first, the store after a restart).
  let timeSec = Math.max(opts.knownTimeSec ?? 0, health?.lastDocumentSec ?? 0);
  if (timeSec === 0) for (const s of statuses) timeSec = Math.max(timeSec, s.lastReportedSec ?? 0);
  if (timeSec === 0) timeSec = Math.floor(Date.now() / 1000);
  return {
    system: {
      id: opts.systemId,
      name: record?.name ?? opts.systemId,
      timezone: record?.timezone ?? opts.timezone,
      language: opts.language,
      feedContactEmail: opts.feedContactEmail,
      openingHours: opts.openingHours,
    },
    timeSec,
    ttlSec: Math.max(0, Math.round(opts.ttlSec)),
    stations: correctStations(infos, statuses, detected),
  };
}
