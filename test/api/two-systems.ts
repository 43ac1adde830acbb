/** Test fixture: small synthetic systems written to a real store, as collect and process write them. */
import type { StationInfo, StationStatus } from '../../src/feed/model.js';
import type { Store } from '../../src/storage/index.js';

export const T0 = 1_763_460_000; // 2025-11-18 10:00 UTC

function info(system: string, n: number, lat: number): StationInfo {
  return {
    stationId: `${system}-${n}`,
    code: `${system.toUpperCase()}${n}`,
    name: `${system} station ${n}`,
    lat: lat + n / 1000,
    lon: 2.3 + n / 1000,
    capacity: 20,
  };
}

function status(stationId: string, mechanical: number, timeSec: number): StationStatus {
  return {
    stationId,
    code: stationId,
    bikes: { mechanical, electric: 1, other: 0 },
    bikesDisabled: 0,
    docksAvailable: 19 - mechanical,
    docksDisabled: 0,
    isInstalled: true,
    isRenting: true,
    isReturning: true,
    lastReportedSec: timeSec,
  };
}

/** A system with `count` stations, one document at `timeSec` (station n has n bikes). */
export async function seedSystem(
  store: Store,
  id: string,
  timezone: string,
  count: number,
  lat: number,
  timeSec: number,
): Promise<StationInfo[]> {
  await store.upsertSystem({
    id,
    name: `System ${id}`,
    feedUrl: `http://127.0.0.1/${id}/gbfs.json`,
    timezone,
  });
  const infos = Array.from({ length: count }, (_, i) => info(id, i + 1, lat));
  await store.saveStationInfo(id, infos);
  await commitDocument(store, id, infos, timeSec, (n) => n);
  return infos;
}

export async function commitDocument(
  store: Store,
  system: string,
  infos: StationInfo[],
  timeSec: number,
  bikes: (n: number) => number,
): Promise<void> {
  await store.commitDiff(
    system,
    [{ type: 'snapshot', system, timeSec, stations: infos.length, intervalSec: 60 }],
    {
      lastDocumentSec: timeSec,
      changed: infos.map((s, i) => status(s.stationId, bikes(i + 1), timeSec)),
      removed: [],
      capacities: new Map(infos.map((s) => [s.stationId, s.capacity])),
    },
  );
  await store.saveFeedHealth({
    system,
    lastDocumentSec: timeSec,
    lastPollSec: timeSec,
    lastSuccessSec: timeSec,
    stale: false,
    consecutiveFailures: 0,
    lastError: null,
    rejected: {},
  });
}

export async function lock(
  store: Store,
  system: string,
  stationId: string,
  timeSec: number,
  offset: number,
): Promise<void> {
  await store.commitDetection(`${system}:detection:seed`, offset, [
    {
      system,
      stationId,
      timeSec,
      from: 'ok',
      to: 'locked',
      detector: 'seed',
      confidence: 0.9,
      reason: 'missing_activity',
      evidence: null,
      offset,
    },
  ]);
  await store.saveDetectedStates(system, [
    { stationId, state: 'locked', sinceSec: timeSec, confidence: 0.9, detector: 'seed' },
  ]);
}
