/**
 * The official GBFS test fixtures (MobilityData gbfs-json-schema, in ../shared) are valid documents:
 * every one we read must be accepted whole.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BikeType } from '../model.js';
import {
  parseDiscovery,
  parseStationInformation,
  parseStationStatus,
  parseSystemInformation,
  parseVehicleTypes,
} from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.resolve(repoRoot, '../shared/gbfs-json-schema/testFixtures');
const haveFixtures = existsSync(fixtures);
if (!haveFixtures) console.log(`GBFS fixture tests skipped: ${fixtures} is absent`);

const VERSIONS = ['v2.3', 'v3.0', 'v3.1-RC3'];

function text(version: string, file: string): string {
  return readFileSync(path.join(fixtures, version, file), 'utf8');
}

function accepted<T>(
  result: { ok: true; doc: T; rejections: unknown[] } | { ok: false; rejection: { message: string } },
): T {
  if (!result.ok) throw new Error(result.rejection.message);
  expect(result.rejections).toEqual([]);
  return result.doc;
}

describe.skipIf(!haveFixtures).each(VERSIONS)('GBFS %s fixtures', (version) => {
  const claimed = version.slice(1);

  it('gbfs.json gives the four feed URLs', () => {
    const urls = accepted(parseDiscovery(text(version, 'gbfs.json')));
    expect(urls.version).toBe(claimed);
    expect(urls.stationStatus).toMatch(/station[_-]status$/);
    expect(urls.stationInformation).toMatch(/station[_-]information$/);
    expect(urls.systemInformation).toMatch(/system[_-]information$/);
  });

  it('system_information gives the time zone', () => {
    const raw = JSON.parse(text(version, 'system_information.json')) as { data: { timezone: string } };
    const info = accepted(parseSystemInformation(text(version, 'system_information.json')));
    expect(info.timezone).toBe(raw.data.timezone);
    expect(info.language).toBe('en');
    expect(typeof info.name).toBe('string');
  });

  it('vehicle_types and station_status: every station, bikes typed through vehicle_types', () => {
    const types: Map<string, BikeType> = accepted(parseVehicleTypes(text(version, 'vehicle_types.json')));
    expect(types.size).toBeGreaterThan(0);
    const raw = JSON.parse(text(version, 'station_status.json')) as {
      last_updated: number | string;
      data: {
        stations: { station_id: string; num_bikes_available?: number; num_vehicles_available?: number }[];
      };
    };
    const doc = accepted(parseStationStatus(raw, { vehicleTypes: types }));
    expect(doc.version).toBe(claimed);
    const expectedSec =
      typeof raw.last_updated === 'number'
        ? raw.last_updated
        : Math.floor(Date.parse(raw.last_updated) / 1000);
    expect(doc.lastUpdatedSec).toBe(expectedSec);
    expect(doc.stations.map((s) => s.stationId)).toEqual(raw.data.stations.map((s) => s.station_id));
    doc.stations.forEach((s, i) => {
      const r = raw.data.stations[i]!;
      expect(s.bikes.mechanical + s.bikes.electric + s.bikes.other).toBe(
        r.num_bikes_available ?? r.num_vehicles_available,
      );
      expect(s.lastReportedSec).toBe(expectedSec);
      expect([s.isInstalled, s.isRenting, s.isReturning]).toEqual([true, true, true]);
    });
  });

  it('station_information: every station, localised names resolved', () => {
    const raw = JSON.parse(text(version, 'station_information.json')) as {
      data: { stations: { station_id: string; lat: number }[] };
    };
    const doc = accepted(parseStationInformation(text(version, 'station_information.json')));
    expect(doc.stations.map((s) => s.stationId)).toEqual(raw.data.stations.map((s) => s.station_id));
    for (const [i, s] of doc.stations.entries()) {
      expect(typeof s.name).toBe('string');
      expect(s.name.length).toBeGreaterThan(0);
      expect(s.lat).toBe(raw.data.stations[i]!.lat);
    }
  });
});

describe.skipIf(!haveFixtures)('fixture details', () => {
  it('v2.3: a scooter is "other", a human-powered city bike "mechanical"', () => {
    const types = accepted(parseVehicleTypes(text('v2.3', 'vehicle_types.json')));
    expect(Object.fromEntries(types)).toEqual({
      'TST:VehicleType:Scooter': 'other',
      'TST:VehicleType:CityBike': 'mechanical',
    });
    const doc = accepted(parseStationStatus(text('v2.3', 'station_status.json'), { vehicleTypes: types }));
    // Station 2: 2 scooters + 4 city bikes.
    expect(doc.stations[1]!.bikes).toEqual({ mechanical: 4, electric: 0, other: 2 });
  });

  it('v3.0: an electric_assist bicycle is "electric"; names are picked from the localised list', () => {
    const types = accepted(parseVehicleTypes(text('v3.0', 'vehicle_types.json')));
    expect(types.get('ebicycle_paris')).toBe('electric');
    const info = accepted(parseStationInformation(text('v3.0', 'station_information.json')));
    expect(info.stations[0]!.name).toBe('2 ROUES');
    // No short_name in the fixture: the code falls back to the station id.
    expect(info.stations[0]!.code).toBe(info.stations[0]!.stationId);
  });

  it('v3.1-RC3: RFC 3339 with an offset; cargo bicycle mechanical, scooter other', () => {
    const doc = accepted(parseStationStatus(text('v3.1-RC3', 'station_status.json')));
    expect(doc.lastUpdatedSec).toBe(Date.UTC(2023, 6, 17, 11, 34, 13) / 1000);
    expect(doc.stations[0]!.docksDisabled).toBe(1);
    expect(doc.stations[0]!.bikesDisabled).toBe(2);
    const types = accepted(parseVehicleTypes(text('v3.1-RC3', 'vehicle_types.json')));
    expect([types.get('abc123'), types.get('cargo123'), types.get('def456')]).toEqual([
      'mechanical',
      'mechanical',
      'other',
    ]);
  });
});
