/** The column form of GET /stations (src/api/station-table.ts) loses nothing and rejects ragged input. */
import { describe, expect, it } from 'vitest';
import { stationsFromColumns, stationsToColumns, type StationListItem } from '../../src/api/station-table.js';

const stations: StationListItem[] = [
  {
    code: '10003',
    name: 'Hauteville - Bonne Nouvelle',
    lat: 48.87077,
    lon: 2.34965,
    capacity: 17,
    bikes: { mechanical: 0, electric: 4, other: 0 },
    docks: 9,
    blockedDocks: 4,
    bikesDisabled: 0,
    docksDisabled: 0,
    declared: 'open',
    detected: 'locked',
    state: 'locked',
    since: 1_759_568_956,
    confidence: 0.97,
    detector: 'poisson',
    lastActivity: 1_760_777_400,
  },
  {
    code: '10004',
    name: 'Metz - Faubourg Saint-Denis',
    lat: 48.87089,
    lon: 2.35352,
    capacity: null,
    bikes: { mechanical: 14, electric: 2, other: 1 },
    docks: 31,
    blockedDocks: 0,
    bikesDisabled: 2,
    docksDisabled: 3,
    declared: 'closed',
    detected: 'learning',
    state: 'closed',
    since: null,
    confidence: null,
    detector: null,
    lastActivity: null,
  },
];

describe('station columns', () => {
  it('round-trips every field, nulls included, in order', () => {
    const columns = stationsToColumns(stations);
    expect(columns.code).toEqual(['10003', '10004']);
    expect(columns.bikes.other).toEqual([0, 1]);
    expect(columns.capacity).toEqual([17, null]);
    // Through JSON, as a client gets it.
    expect(stationsFromColumns(JSON.parse(JSON.stringify(columns)) as typeof columns)).toEqual(stations);
    expect(stationsFromColumns(stationsToColumns([]))).toEqual([]);
  });

  it('refuses columns of different lengths', () => {
    const columns = stationsToColumns(stations);
    columns.lat.pop();
    expect(() => stationsFromColumns(columns)).toThrow(/different lengths/);
  });
});
