/**
 * Lock statistics from the state-change history: how many stations were locked (or partly) at each
 * hour, and the longest locks. Walks back from the current states: before a change, its station
 * was in `from` instead of `to` — so the counts at any past hour need no stored snapshot.
 */
import type { StationState } from '../detection/index.js';
import type { Store, StoredStateChange } from '../storage/index.js';
import type { Snapshot } from './snapshot.js';
import { categoryOf } from './station-view.js';

const MAX_CHANGES = 50_000;
const HOUR_SEC = 3600;

export interface LockStats {
  series: { timeSec: number; locked: number; partial: number }[];
  longestLocks: {
    code: string;
    name: string | null;
    fromSec: number;
    toSec: number | null;
    durationSec: number;
    ongoing: boolean;
  }[];
}

export async function lockStatistics(
  store: Store,
  systemId: string,
  snap: Snapshot,
  days: number,
): Promise<LockStats> {
  const endSec = snap.timeSec;
  const startSec = endSec - days * 86400;
  // Newest first.
  const changes: StoredStateChange[] = await store.listStateChanges({
    system: systemId,
    sinceSec: startSec,
    limit: MAX_CHANGES,
  });

  const stateOf = new Map<string, StationState>();
  let locked = 0;
  let partial = 0;
  for (const v of snap.views) {
    stateOf.set(v.id, v.state);
    const c = categoryOf(v.state);
    if (c === 'locked') locked++;
    else if (c === 'partial') partial++;
  }
  const series: LockStats['series'] = [];
  let sample = Math.floor(endSec / HOUR_SEC) * HOUR_SEC;
  let i = 0;
  while (sample >= startSec) {
    // Undo every change that happened after this sample time.
    while (i < changes.length && changes[i]!.timeSec > sample) {
      const ch = changes[i++]!;
      const toCat = categoryOf(ch.to);
      const fromCat = categoryOf(ch.from);
      if (toCat === 'locked') locked--;
      else if (toCat === 'partial') partial--;
      if (fromCat === 'locked') locked++;
      else if (fromCat === 'partial') partial++;
    }
    series.push({ timeSec: sample, locked: Math.max(0, locked), partial: Math.max(0, partial) });
    sample -= HOUR_SEC;
  }
  series.reverse();

  // Lock spans: a change to `locked` opens one, the next change of that station closes it.
  const openUntil = new Map<string, number | null>(); // stationId → time its later change happened
  for (const v of snap.views) openUntil.set(v.id, null);
  const spans: LockStats['longestLocks'] = [];
  const byId = snap.byId;
  for (const ch of changes) {
    const until = openUntil.has(ch.stationId) ? openUntil.get(ch.stationId)! : null;
    if (ch.to === 'locked') {
      const v = byId.get(ch.stationId);
      const toSec = until;
      spans.push({
        code: v?.code ?? ch.stationId,
        name: v?.name ?? null,
        fromSec: ch.timeSec,
        toSec,
        durationSec: (toSec ?? endSec) - ch.timeSec,
        ongoing: toSec === null && v?.state === 'locked',
      });
    }
    openUntil.set(ch.stationId, ch.timeSec);
  }
  // Locks that started before the window and still hold.
  for (const v of snap.views) {
    if (v.state === 'locked' && v.since !== null && v.since < startSec) {
      spans.push({
        code: v.code,
        name: v.name,
        fromSec: v.since,
        toSec: null,
        durationSec: endSec - v.since,
        ongoing: true,
      });
    }
  }
  spans.sort((a, b) => b.durationSec - a.durationSec);
  return { series, longestLocks: spans.slice(0, 20) };
}
