/** Shared bits of the simulator's tests: paths, fixed times, typed access to served documents. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const velibDir = path.join(sharedDir, 'data/velib-2025-10');
export const schemaDir = path.join(sharedDir, 'gbfs-json-schema/v2.3');
export const hasVelib = existsSync(path.join(velibDir, 'station_status.json'));
export const hasSchemas = existsSync(path.join(schemaDir, 'station_status.json'));
if (!hasVelib) console.warn(`skipping Vélib' comparisons: ${velibDir} is absent`);
if (!hasSchemas) console.warn(`skipping GBFS schema validation: ${schemaDir} is absent`);

/** Monday 6 October 2025, 07:00 in Paris (05:00 UTC): the morning rush is about to start. */
export const MONDAY_7H_PARIS = Date.UTC(2025, 9, 6, 5, 0, 0) / 1000;

export interface GbfsStationStatus {
  station_id: string;
  num_bikes_available: number;
  num_bikes_disabled: number;
  num_docks_available: number;
  num_docks_disabled: number;
  is_installed: boolean;
  is_renting: boolean;
  is_returning: boolean;
  last_reported: number;
  vehicle_types_available: { vehicle_type_id: string; count: number }[];
}
export interface GbfsStatusDoc {
  last_updated: number;
  ttl: number;
  version: string;
  data: { stations: GbfsStationStatus[] };
}

export function stationsById(doc: GbfsStatusDoc): Map<string, GbfsStationStatus> {
  return new Map(doc.data.stations.map((s) => [s.station_id, s]));
}

export function typeCount(s: GbfsStationStatus, type: string): number {
  return s.vehicle_types_available.find((t) => t.vehicle_type_id === type)?.count ?? 0;
}

export async function fetchStatus(baseUrl: string): Promise<GbfsStatusDoc> {
  const res = await fetch(`${baseUrl}/station_status.json`);
  if (res.status !== 200) throw new Error(`station_status answered ${res.status}`);
  return (await res.json()) as GbfsStatusDoc;
}

export async function fetchState(
  baseUrl: string,
): Promise<{ nowSec: number; faults: Record<string, unknown>[] }> {
  const res = await fetch(`${baseUrl}/control/state`);
  return (await res.json()) as { nowSec: number; faults: Record<string, unknown>[] };
}
