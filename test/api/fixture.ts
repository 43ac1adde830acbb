/**
 * A real SQLite store filled through the Store methods with data derived from the real Vélib'
 * snapshot (../shared/data/velib-2025-10): its 1,495 stations with their real names, positions and
 * counts, 14 days of synthetic-but-plausible activity (diurnal profile, Poisson counts), a history
 * of state changes and a few stations seeded in known states (one locked, one partly locked…).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { localClock, OBSERVED_STATION_ID } from '../../src/activity/index.js';
import type { StateChange, StationState } from '../../src/detection/index.js';
import type { FeedEvent } from '../../src/events/index.js';
import type { StationInfo, StationStatus } from '../../src/feed/model.js';
import {
  openSqliteStore,
  type DetectedStateRow,
  type SlotCount,
  type Store,
} from '../../src/storage/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const velibDir = path.resolve(repoRoot, '../shared/data/velib-2025-10');
export const hasVelib = existsSync(path.join(velibDir, 'station_status.json'));
export const SYSTEM = 'velib';
export const TIMEZONE = 'Europe/Paris';
const DAYS = 14;

export interface Seeded {
  store: Store;
  timeSec: number;
  infos: StationInfo[];
  statuses: StationStatus[];
  /** Codes of stations seeded in a known state. */
  lockedCode: string;
  partialCode: string;
  learningCode: string;
  okCode: string;
  lockedCodes: string[];
}

interface VelibStatus {
  station_id: number;
  stationCode: string;
  num_bikes_available_types: Record<string, number>[];
  num_docks_available: number;
  is_installed: number;
  is_renting: number;
  is_returning: number;
  last_reported: number;
}
interface VelibInfo {
  station_id: number;
  stationCode: string;
  name: string;
  lat: number;
  lon: number;
  capacity: number;
}

export function readVelib(): { timeSec: number; infos: StationInfo[]; statuses: StationStatus[] } {
  const status = JSON.parse(readFileSync(path.join(velibDir, 'station_status.json'), 'utf8')) as {
    lastUpdatedOther: number;
    data: { stations: VelibStatus[] };
  };
  const info = JSON.parse(readFileSync(path.join(velibDir, 'station_information.json'), 'utf8')) as {
    data: { stations: VelibInfo[] };
  };
  const infos: StationInfo[] = info.data.stations.map((s) => ({
    stationId: String(s.station_id),
    code: s.stationCode,
    name: s.name,
    lat: s.lat,
    lon: s.lon,
    capacity: s.capacity,
  }));
  const statuses: StationStatus[] = status.data.stations.map((s) => {
    const bikes = { mechanical: 0, electric: 0, other: 0 };
    for (const t of s.num_bikes_available_types)
      for (const [k, n] of Object.entries(t)) {
        if (k === 'mechanical') bikes.mechanical += n;
        else if (k === 'ebike') bikes.electric += n;
        else bikes.other += n;
      }
    return {
      stationId: String(s.station_id),
      code: s.stationCode,
      bikes,
      bikesDisabled: 0,
      docksAvailable: s.num_docks_available,
      docksDisabled: 0,
      isInstalled: s.is_installed === 1,
      isRenting: s.is_renting === 1,
      isReturning: s.is_returning === 1,
      lastReportedSec: s.last_reported,
    };
  });
  return { timeSec: status.lastUpdatedOther, infos, statuses };
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(rand: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

/** Rentals per 10-min slot of an average station: morning and evening peaks. */
function diurnal(slot: number): number {
  const hour = slot / 6;
  const peak = (c: number, w: number): number => Math.exp(-((hour - c) ** 2) / (2 * w * w));
  return 0.02 + 0.55 * peak(8.5, 1.2) + 0.45 * peak(13, 2.5) + 0.7 * peak(18.3, 1.6);
}

/** Seeds a new SQLite file, or `store` (already migrated) when given one (another backend). */
export async function seedVelibStore(file: string | Store): Promise<Seeded> {
  const { timeSec, infos, statuses } = readVelib();
  // A few stations get counts that show blocked docks (capacity − bikes − docks > 0).
  const store = typeof file === 'string' ? openSqliteStore({ path: file }) : file;
  if (typeof file === 'string') await store.migrate();
  await store.upsertSystem({
    id: SYSTEM,
    name: 'Vélib’ Métropole',
    feedUrl: 'http://127.0.0.1/gbfs.json',
    timezone: TIMEZONE,
  });
  await store.saveStationInfo(SYSTEM, infos);

  const clock = localClock(TIMEZONE);
  const today = clock.day(timeSec);
  const nowSlot = clock.slot(timeSec);
  const events: FeedEvent[] = [];
  const hours = DAYS * 24;
  for (let i = hours; i >= 0; i--) {
    events.push({
      type: 'snapshot',
      system: SYSTEM,
      timeSec: timeSec - i * 3600,
      stations: statuses.length,
      intervalSec: i === hours ? null : 3600,
    });
  }
  const capacities = new Map(infos.map((i) => [i.stationId, i.capacity]));
  const logged = await store.commitDiff(SYSTEM, events, {
    lastDocumentSec: timeSec,
    changed: statuses,
    removed: [],
    capacities,
  });
  const lastOffset = logged[logged.length - 1]!.offset;

  const installed = statuses.filter((s) => s.isInstalled && s.isRenting && s.isReturning);
  const byId = new Map(infos.map((i) => [i.stationId, i]));
  const codeOf = (s: StationStatus): string => byId.get(s.stationId)!.code;
  const locked = installed.slice(0, 12);
  const partial = installed[20]!;
  const learning = installed.slice(30, 40);
  const okStation = installed[50]!;
  const resolved = installed.slice(60, 90);

  // Activity: past days fully observed; today up to now. Locked stations: nothing since their lock.
  const rand = prng(42);
  const lockedSince = new Map<string, number>();
  locked.forEach((s, i) => lockedSince.set(s.stationId, timeSec - 3600 * (5 + i * 7)));
  const learningIds = new Set(learning.map((s) => s.stationId));
  const increments: SlotCount[] = [];
  for (let day = today - DAYS; day <= today; day++) {
    const weekday = (((day + 4) % 7) + 7) % 7;
    const weekendFactor = weekday === 0 || weekday === 6 ? 0.7 : 1;
    const lastSlot = day === today ? nowSlot : 143;
    for (let slot = 0; slot <= lastSlot; slot++)
      increments.push({ stationId: OBSERVED_STATION_ID, day, slot, rented: 600, returned: 0 });
    for (const s of statuses) {
      if (learningIds.has(s.stationId) && day < today - 2) continue;
      const stationFactor = 0.3 + ((Number(s.stationId) % 97) / 97) * 1.7;
      const lockFrom = lockedSince.get(s.stationId);
      for (let slot = 0; slot <= lastSlot; slot++) {
        const slotStart = timeSec - ((today - day) * 144 + (nowSlot - slot)) * 600;
        if (lockFrom !== undefined && slotStart >= lockFrom - 600) continue;
        const mean = diurnal(slot) * stationFactor * weekendFactor;
        const rented = poisson(rand, mean);
        const returned = poisson(rand, mean);
        if (rented + returned > 0) increments.push({ stationId: s.stationId, day, slot, rented, returned });
      }
    }
  }
  // One commit per half day, at increasing offsets of the log: stores bound the size of a commit.
  const chunks: SlotCount[][] = [];
  for (let day = today - DAYS; day <= today; day++)
    for (const half of [0, 1])
      chunks.push(increments.filter((c) => c.day === day && c.slot >= half * 72 && c.slot < half * 72 + 72));
  for (let i = 0; i < chunks.length; i++)
    await store.commitActivity(SYSTEM, 'activity', lastOffset - (chunks.length - 1 - i), chunks[i]!);

  // State changes: a history of resolved locks, the current locks, one partial, learning stations.
  const changes: StateChange[] = [];
  const change = (
    s: StationStatus,
    t: number,
    from: StationState,
    to: StationState,
    offset: number,
  ): void => {
    changes.push({
      system: SYSTEM,
      stationId: s.stationId,
      timeSec: t,
      from,
      to,
      detector: 'seed',
      confidence: to === 'ok' ? 1 : 0.97,
      reason: to === 'ok' ? 'activity_resumed' : 'missing_activity',
      evidence: to === 'ok' ? null : { expected: 6.2, observed: 0, inactiveSec: 3 * 3600 },
      offset,
    });
  };
  let offset = 1;
  resolved.forEach((s, i) => {
    const from = timeSec - 86400 * (1 + (i % 6)) - 3600 * i;
    change(s, from, 'ok', 'locked', offset++);
    change(s, from + 3600 * (2 + (i % 9)), 'locked', 'ok', offset++);
  });
  for (const s of locked) change(s, lockedSince.get(s.stationId)!, 'ok', 'locked', offset++);
  change(partial, timeSec - 2 * 3600, 'ok', 'rent_blocked', offset++);
  changes.sort((a, b) => a.timeSec - b.timeSec);
  changes.forEach((c, i) => (c.offset = i + 1));
  await store.commitDetection('detector:velib:seed', lastOffset, changes);

  const rows: DetectedStateRow[] = statuses.map((s) => {
    const since = lockedSince.get(s.stationId);
    if (since !== undefined)
      return { stationId: s.stationId, state: 'locked', sinceSec: since, confidence: 0.97, detector: 'seed' };
    if (s === partial)
      return {
        stationId: s.stationId,
        state: 'rent_blocked',
        sinceSec: timeSec - 7200,
        confidence: 0.9,
        detector: 'seed',
      };
    if (learningIds.has(s.stationId))
      return {
        stationId: s.stationId,
        state: 'learning',
        sinceSec: timeSec - 2 * 86400,
        confidence: 0,
        detector: 'seed',
      };
    return {
      stationId: s.stationId,
      state: 'ok',
      sinceSec: timeSec - DAYS * 86400,
      confidence: 0.9,
      detector: 'seed',
    };
  });
  await store.saveDetectedStates(SYSTEM, rows);
  const nowSec = Math.floor(Date.now() / 1000);
  await store.saveFeedHealth({
    system: SYSTEM,
    lastDocumentSec: timeSec,
    lastPollSec: nowSec,
    lastSuccessSec: nowSec,
    stale: false,
    consecutiveFailures: 0,
    lastError: null,
    rejected: { bad_station: 2, duplicate_document: 5 },
  });
  return {
    store,
    timeSec,
    infos,
    statuses,
    lockedCode: codeOf(locked[0]!),
    partialCode: codeOf(partial),
    learningCode: codeOf(learning[0]!),
    okCode: codeOf(okStation),
    lockedCodes: locked.map(codeOf),
  };
}
