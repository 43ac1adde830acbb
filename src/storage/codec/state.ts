import type { StationStatus } from '../../feed/model.js';
import { ByteReader, ByteWriter } from './bytes.js';

/**
 * The diff state packed as varints. An image and a delta share one layout:
 *   n, then n × status (station id, code?, mechanical, electric, other, bikes disabled,
 *     docks available, docks disabled, flags: bit 0 installed / 1 renting / 2 returning,
 *     lastReportedSec?)
 *   n, then n × removed station id
 *   n, then n × (station id, capacity?)
 * Applying one = upsert the statuses, drop the removed stations (status and capacity), set the
 * capacities — the order commitDiff documents.
 */

/** Station keys ⇄ the integer ids the packed form stores (a store's dictionary, or a per-item table). */
export interface StationIds {
  stationId(systemId: number, key: string): number;
  stationKey(id: number): string;
}

export interface StateMirror {
  stations: Map<string, StationStatus>;
  capacities: Map<string, number | null>;
}

function int(v: unknown, what: string, stationId: string): number {
  if (!Number.isInteger(v) || Math.abs(v as number) > 2 ** 50) {
    throw new Error(`invalid status of station ${stationId}: ${what} must be an integer, got ${String(v)}`);
  }
  return v as number;
}

/** A literal, not a spread: V8's spread path is ~30× slower and this runs per changed station. */
export function copyStatus(s: StationStatus): StationStatus {
  return {
    stationId: s.stationId,
    code: s.code,
    bikes: { mechanical: s.bikes.mechanical, electric: s.bikes.electric, other: s.bikes.other },
    bikesDisabled: s.bikesDisabled,
    docksAvailable: s.docksAvailable,
    docksDisabled: s.docksDisabled,
    isInstalled: s.isInstalled,
    isRenting: s.isRenting,
    isReturning: s.isReturning,
    lastReportedSec: s.lastReportedSec,
  };
}

export function writeStatus(w: ByteWriter, stationDictId: number, s: StationStatus): void {
  const id = s.stationId;
  w.uint(stationDictId);
  if (s.code !== null && typeof s.code !== 'string')
    throw new Error(`invalid status of station ${id}: code must be a string or null`);
  w.nullableString(s.code);
  w.int(int(s.bikes.mechanical, 'bikes.mechanical', id));
  w.int(int(s.bikes.electric, 'bikes.electric', id));
  w.int(int(s.bikes.other, 'bikes.other', id));
  w.int(int(s.bikesDisabled, 'bikesDisabled', id));
  w.int(int(s.docksAvailable, 'docksAvailable', id));
  w.int(int(s.docksDisabled, 'docksDisabled', id));
  w.uint((s.isInstalled ? 1 : 0) | (s.isRenting ? 2 : 0) | (s.isReturning ? 4 : 0));
  w.nullableInt(s.lastReportedSec === null ? null : int(s.lastReportedSec, 'lastReportedSec', id));
}

function readStatus(r: ByteReader, dict: StationIds): StationStatus {
  const stationId = dict.stationKey(r.uint());
  const code = r.nullableString();
  const mechanical = r.int();
  const electric = r.int();
  const other = r.int();
  const bikesDisabled = r.int();
  const docksAvailable = r.int();
  const docksDisabled = r.int();
  const flags = r.uint();
  return {
    stationId,
    code,
    bikes: { mechanical, electric, other },
    bikesDisabled,
    docksAvailable,
    docksDisabled,
    isInstalled: (flags & 1) !== 0,
    isRenting: (flags & 2) !== 0,
    isReturning: (flags & 4) !== 0,
    lastReportedSec: r.nullableInt(),
  };
}

/** Apply a packed image or delta to `into`. */
export function applyPacked(blob: Uint8Array, into: StateMirror, dict: StationIds): void {
  const r = new ByteReader(blob);
  for (let n = r.uint(); n > 0; n--) {
    const s = readStatus(r, dict);
    into.stations.set(s.stationId, s);
  }
  for (let n = r.uint(); n > 0; n--) {
    const key = dict.stationKey(r.uint());
    into.stations.delete(key);
    into.capacities.delete(key);
  }
  for (let n = r.uint(); n > 0; n--) {
    const key = dict.stationKey(r.uint());
    into.capacities.set(key, r.nullableInt());
  }
}

/** Pack a whole state (an image). */
export function packImage(state: StateMirror, systemId: number, dict: StationIds, w: ByteWriter): Buffer {
  w.reset();
  w.uint(state.stations.size);
  for (const s of state.stations.values()) writeStatus(w, dict.stationId(systemId, s.stationId), s);
  w.uint(0);
  w.uint(state.capacities.size);
  for (const [key, capacity] of state.capacities) {
    w.uint(dict.stationId(systemId, key));
    w.nullableInt(capacity);
  }
  return w.view();
}
