import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStationsFromFile } from './station-file.js';

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-sim-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('stations from a file', () => {
  it('reads GBFS station_information with the status beside it as the starting state', () => {
    const dir = dirWith({
      'station_information.json': {
        last_updated: 1,
        ttl: 0,
        data: {
          stations: [
            { station_id: 'a-1', short_name: 'A1', name: 'Alpha', lat: 37.77, lon: -122.41, capacity: 20 },
            { station_id: '77', name: 'Beta', lat: 37.78, lon: -122.42 },
            { station_id: 'no-position', name: 'Gamma' },
          ],
        },
      },
      'station_status.json': {
        last_updated: 1,
        ttl: 0,
        data: {
          stations: [
            {
              station_id: 'a-1',
              num_bikes_available: 7,
              num_docks_available: 12,
              is_installed: true,
              is_renting: false,
              is_returning: true,
              vehicle_types_available: [
                { vehicle_type_id: 'mechanical', count: 5 },
                { vehicle_type_id: 'electric', count: 2 },
              ],
            },
          ],
        },
      },
    });
    const stations = loadStationsFromFile(dir, 1);
    expect(stations.map((s) => s.stationId)).toEqual(['a-1', '77']);
    const [a, b] = stations;
    expect(a).toMatchObject({ code: 'A1', name: 'Alpha', capacity: 20, renting: false, returning: true });
    expect(a?.initial).toEqual({ mechanical: 5, electric: 2, bikesDisabled: 0 });
    expect(Number.isInteger(a?.numericId)).toBe(true);
    // No capacity and no status: a default capacity, random start, and an integer id kept as is.
    expect(b).toMatchObject({ code: '77', numericId: 77, capacity: 20, renting: true });
    expect(b?.initial).toBeUndefined();
    expect(loadStationsFromFile(path.join(dir, 'station_information.json'), 1)).toEqual(stations);
  });

  it('names the file and the problem when it cannot be used', () => {
    const notJson = dirWith({ 'station_information.json': '{ nope' });
    expect(() => loadStationsFromFile(notJson, 1)).toThrow(
      /cannot read stations from .*station_information\.json/,
    );
    const noStations = dirWith({ 'station_information.json': { data: {} } });
    expect(() => loadStationsFromFile(noStations, 1)).toThrow(/no data\.stations array/);
    const noPositions = dirWith({
      'station_information.json': { data: { stations: [{ station_id: 'x' }] } },
    });
    expect(() => loadStationsFromFile(noPositions, 1)).toThrow(/no station with station_id, lat and lon/);
    expect(() => loadStationsFromFile('/no/such/place', 1)).toThrow(/no such file/i);
  });
});
