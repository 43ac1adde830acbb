/**
 * Real stations for the simulator, from a station_information.json (GBFS 1.x–2.3 or Vélib'), or a
 * directory holding one. When a station_status.json lies beside it, its counts and flags become the
 * starting state, so the simulation starts from a real morning. This runs once at start-up: a bad
 * file is a configuration error and throws with the file name and the reason.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Rng, hashString } from './prng.js';
import type { SimStationDef } from './stations.js';

type Json = Record<string, unknown>;

function readStationsArray(file: string): Json[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read stations from ${file}: ${(err as Error).message}`);
  }
  const stations = (doc as { data?: { stations?: unknown } } | null)?.data?.stations;
  if (!Array.isArray(stations)) throw new Error(`${file} has no data.stations array`);
  return stations.filter((s): s is Json => typeof s === 'object' && s !== null);
}

function flag(v: unknown): boolean {
  return v === true || v === 1;
}
function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

/** vehicle_type_ids are free text; without vehicle_types.json, guess from the usual names. */
function looksElectric(id: string): boolean {
  const x = id.toLowerCase();
  return x.includes('elec') || x.includes('ebike') || x.includes('e-bike') || x === 'e';
}

/** Electric bikes in a status entry: GBFS 2.1+ vehicle types, Lyft's num_ebikes_available, Vélib's list. */
function electricOf(s: Json): number {
  if (Array.isArray(s['num_bikes_available_types'])) {
    for (const t of s['num_bikes_available_types'] as Json[]) if (t && 'ebike' in t) return count(t['ebike']);
    return 0;
  }
  if (Array.isArray(s['vehicle_types_available'])) {
    let n = 0;
    for (const t of s['vehicle_types_available'] as Json[]) {
      if (t && typeof t['vehicle_type_id'] === 'string' && looksElectric(t['vehicle_type_id']))
        n += count(t['count']);
    }
    return n;
  }
  return count(s['num_ebikes_available']);
}

function numericIdOf(id: string): number {
  return /^\d{1,15}$/.test(id) ? Number(id) : hashString(id);
}

export function loadStationsFromFile(location: string, seed: number): SimStationDef[] {
  const isDir = statSync(location).isDirectory();
  const infoFile = isDir ? path.join(location, 'station_information.json') : location;
  const statusFile = path.join(path.dirname(infoFile), 'station_status.json');
  const info = readStationsArray(infoFile);
  const status = new Map<string, Json>();
  try {
    for (const s of readStationsArray(statusFile)) status.set(String(s['station_id']), s);
  } catch {
    // No status beside the information file: starting counts are drawn at random.
  }

  const valid = info.filter(
    (s) =>
      (typeof s['station_id'] === 'string' || typeof s['station_id'] === 'number') &&
      typeof s['lat'] === 'number' &&
      typeof s['lon'] === 'number',
  );
  if (valid.length === 0) throw new Error(`${infoFile} has no station with station_id, lat and lon`);
  // Busyness and commuting role from the distance to the median point of the network.
  const lats = valid.map((s) => s['lat'] as number).sort((a, b) => a - b);
  const lons = valid.map((s) => s['lon'] as number).sort((a, b) => a - b);
  const midLat = lats[lats.length >> 1] as number;
  const midLon = lons[lons.length >> 1] as number;
  const kmPerDegLon = 111.32 * Math.cos((midLat * Math.PI) / 180);
  const dist = valid.map((s) =>
    Math.hypot(((s['lat'] as number) - midLat) * 111.32, ((s['lon'] as number) - midLon) * kmPerDegLon),
  );
  const medianDist = [...dist].sort((a, b) => a - b)[dist.length >> 1] || 1;

  const rng = new Rng(seed ^ 0x0f11e5);
  const seen = new Set<string>();
  const out: SimStationDef[] = [];
  valid.forEach((s, i) => {
    const stationId = String(s['station_id']);
    if (seen.has(stationId)) return;
    seen.add(stationId);
    const st = status.get(stationId);
    const electric = st ? electricOf(st) : 0;
    const total = st ? count(st['num_bikes_available']) : 0;
    const initial = st
      ? {
          mechanical: Math.max(0, total - electric),
          electric: Math.min(electric, total),
          bikesDisabled: count(st['num_bikes_disabled']),
        }
      : undefined;
    const declared = count(s['capacity']);
    const seenInStatus = st ? total + count(st['num_bikes_disabled']) + count(st['num_docks_available']) : 0;
    // Vélib' lists a few stations with capacity 0 that hold bikes: trust what the status shows.
    const capacity = Math.max(declared, seenInStatus) || (st ? 0 : 20);
    const d = dist[i] as number;
    const code = s['short_name'] ?? s['stationCode'];
    out.push({
      stationId,
      numericId: numericIdOf(stationId),
      code: typeof code === 'string' || typeof code === 'number' ? String(code) : stationId,
      name: typeof s['name'] === 'string' ? s['name'] : stationId,
      lat: s['lat'] as number,
      lon: s['lon'] as number,
      capacity,
      busyness: Math.min(
        25,
        0.4 + 7 * Math.exp(-d / 4) * Math.exp(0.5 * rng.normal()) * Math.sqrt(Math.max(capacity, 10) / 30),
      ),
      role: Math.max(-1, Math.min(1, d / medianDist - 1 + 0.3 * rng.normal())),
      installed: st ? flag(st['is_installed']) : capacity > 0,
      renting: st ? flag(st['is_renting']) : capacity > 0,
      returning: st ? flag(st['is_returning']) : capacity > 0,
      docksDisabled: st ? count(st['num_docks_disabled']) : 0,
      ...(initial ? { initial } : {}),
    });
  });
  return out;
}
