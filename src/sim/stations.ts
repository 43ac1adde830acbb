/**
 * The stations of a simulated system: a synthetic city, or real stations read from a
 * station_information file (GBFS 1.x–2.3 or Vélib'), optionally with their real counts from a
 * station_status file beside it as the starting state.
 */
import { STREETS } from './names.js';
import { Rng } from './prng.js';
import { loadStationsFromFile } from './station-file.js';

export interface SimStationDef {
  /** GBFS 2.3 station_id (a string of digits, so that the Vélib' variant can serve it as an integer). */
  stationId: string;
  /** Integer id served by the Vélib' variant. */
  numericId: number;
  /** short_name / stationCode. */
  code: string;
  name: string;
  lat: number;
  lon: number;
  capacity: number;
  /** Mean rentals (and returns) per hour on a weekday. */
  busyness: number;
  /** Commuting role in [-1, 1]: -1 central (fills in the morning), +1 residential (empties). */
  role: number;
  installed: boolean;
  renting: boolean;
  returning: boolean;
  docksDisabled: number;
  /** Starting counts; drawn at random when absent. */
  initial?: { mechanical: number; electric: number; bikesDisabled: number };
}

export interface SyntheticCityOptions {
  count?: number;
  centreLat?: number;
  centreLon?: number;
  radiusKm?: number;
}

export type StationSource = { synthetic: SyntheticCityOptions } | { path: string };

const KM_PER_DEG_LAT = 111.32;

/** Clamp to [lo, hi]. */
function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * A city of `count` stations (default 200) around a centre (default Paris, Châtelet). Stations are
 * denser near the centre (radius ∝ u^0.8 instead of the uniform-disc √u); central stations are
 * bigger (capacity 20–40 against 12–25 at the edge) and busier (busyness falls off exponentially
 * with distance, with log-normal scatter so neighbours differ, from ~12 down to ~0.3 events/hour).
 */
export function syntheticCity(seed: number, opts: SyntheticCityOptions = {}): SimStationDef[] {
  const count = opts.count ?? 200;
  const centreLat = opts.centreLat ?? 48.8584;
  const centreLon = opts.centreLon ?? 2.3475;
  const radiusKm = opts.radiusKm ?? 6;
  const rng = new Rng(seed ^ 0x5ca1ab1e);
  const kmPerDegLon = KM_PER_DEG_LAT * Math.cos((centreLat * Math.PI) / 180);
  const usedNames = new Set<string>();
  const usedIds = new Set<number>();
  const perZone = new Map<number, number>();
  const stations: SimStationDef[] = [];
  for (let i = 0; i < count; i++) {
    const distKm = radiusKm * Math.pow(rng.uniform(), 0.8);
    const angle = rng.uniform() * 2 * Math.PI;
    const lat = centreLat + (distKm * Math.sin(angle)) / KM_PER_DEG_LAT;
    const lon = centreLon + (distKm * Math.cos(angle)) / kmPerDegLon;
    const centrality = 1 - distKm / radiusKm; // 1 at the centre, 0 at the edge
    const capacity = Math.round(clamp(12 + 28 * centrality * (0.6 + 0.6 * rng.uniform()), 12, 40));
    const busyness = clamp(0.3 + 12 * Math.exp(-distKm / 2.2) * Math.exp(0.5 * rng.normal()), 0.2, 30);
    const role = clamp(2 * (distKm / radiusKm) - 1 + 0.3 * rng.normal(), -1, 1);
    let name = '';
    for (let attempt = 0; attempt < 50 && (name === '' || usedNames.has(name)); attempt++) {
      const a = rng.pick(STREETS);
      const b = rng.pick(STREETS);
      name = a === b ? `${a}` : `${a} - ${b}`;
    }
    if (usedNames.has(name)) name = `${name} ${i + 1}`;
    usedNames.add(name);
    // Codes like Vélib's: zone (ring × 4 sectors + 1, as arrondissements spiral out) then a sequence.
    const zone =
      1 + Math.min(4, Math.floor((distKm / radiusKm) * 5)) * 4 + Math.floor((angle / (2 * Math.PI)) * 4);
    const seq = (perZone.get(zone) ?? 0) + 1;
    perZone.set(zone, seq);
    let numericId = 0;
    while (numericId === 0 || usedIds.has(numericId)) numericId = rng.int(10_000_000, 99_999_999_999);
    usedIds.add(numericId);
    stations.push({
      stationId: String(numericId),
      numericId,
      code: String(zone * 1000 + seq),
      name,
      lat: Math.round(lat * 1e6) / 1e6,
      lon: Math.round(lon * 1e6) / 1e6,
      capacity,
      busyness,
      role,
      installed: true,
      renting: true,
      returning: true,
      docksDisabled: rng.uniform() < 0.1 ? rng.int(1, 2) : 0,
    });
  }
  return stations;
}

export function loadStations(source: StationSource | undefined, seed: number): SimStationDef[] {
  if (source === undefined) return syntheticCity(seed);
  if ('synthetic' in source) return syntheticCity(seed, source.synthetic);
  return loadStationsFromFile(source.path, seed);
}
