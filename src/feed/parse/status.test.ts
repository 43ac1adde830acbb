/** station_status quirks of the GBFS versions and of real operators, one at a time. */
import { describe, expect, it } from 'vitest';
import type { BikeType, StationStatus } from '../model.js';
import { parseStationStatus } from './index.js';
import type { StatusParseOptions } from './index.js';

const T = 1_700_000_000;

function one(
  station: Record<string, unknown>,
  opts?: StatusParseOptions,
  top: Record<string, unknown> = {},
): StationStatus {
  const result = parseStationStatus(
    { last_updated: T, data: { stations: [{ station_id: 's1', ...station }] }, ...top },
    opts,
  );
  if (!result.ok) throw new Error(result.rejection.message);
  expect(result.rejections).toEqual([]);
  expect(result.doc.stations).toHaveLength(1);
  return result.doc.stations[0]!;
}

function docTime(lastUpdated: unknown): number | string {
  const result = parseStationStatus({ last_updated: lastUpdated, data: { stations: [] } });
  return result.ok ? result.doc.lastUpdatedSec : result.rejection.reason;
}

describe('document timestamp', () => {
  it('reads POSIX seconds, milliseconds and RFC 3339, in any offset', () => {
    expect(docTime(T)).toBe(T);
    expect(docTime(T * 1000 + 999)).toBe(T);
    expect(docTime(T + 0.7)).toBe(T);
    expect(docTime('2023-11-14T22:13:20Z')).toBe(T);
    expect(docTime('2023-11-14T23:13:20.250+01:00')).toBe(T);
    expect(docTime('2023-11-14t22:13:20z')).toBe(T);
    expect(docTime('2023-11-14 22:13:20-00:00')).toBe(T);
  });

  it('rejects dates that are not RFC 3339 although Date.parse takes them', () => {
    for (const text of [
      '2023-11-14',
      'Tue, 14 Nov 2023 22:13:20 GMT',
      '2023-11-14T22:13:20',
      '2023-11-14T22:13:20+0100',
    ]) {
      expect(docTime(text)).toBe('bad_timestamp');
    }
  });

  it("reads Vélib' lastUpdatedOther, ttl, and the version from the document or from gbfs.json", () => {
    const velib = parseStationStatus(
      { lastUpdatedOther: T, ttl: 3600, data: { stations: [] } },
      { feedVersion: '2.3' },
    );
    expect(velib.ok && velib.doc).toEqual({ lastUpdatedSec: T, ttlSec: 3600, version: '2.3', stations: [] });
    const claimed = parseStationStatus(
      { last_updated: T, version: '1.1', data: { stations: [] } },
      { feedVersion: '2.3' },
    );
    expect(claimed.ok && claimed.doc.version).toBe('1.1');
  });

  it('accepts the raw text and the raw bytes as well as a parsed object', () => {
    const text = JSON.stringify({
      last_updated: T,
      data: { stations: [{ station_id: 'a', num_bikes_available: 1 }] },
    });
    const fromText = parseStationStatus(text);
    const fromBytes = parseStationStatus(Buffer.from(text));
    expect(fromText).toEqual(parseStationStatus(JSON.parse(text)));
    expect(fromBytes).toEqual(fromText);
  });
});

describe('bike types', () => {
  it("splits Vélib' num_bikes_available_types lists and objects", () => {
    const list = one({
      num_bikes_available: 5,
      num_bikes_available_types: [{ mechanical: 1 }, { ebike: 4 }],
    });
    expect(list.bikes).toEqual({ mechanical: 1, electric: 4, other: 0 });
    const object = one({ num_bikes_available: 3, num_bikes_available_types: { mechanical: 2, ebike: 1 } });
    expect(object.bikes).toEqual({ mechanical: 2, electric: 1, other: 0 });
  });

  it('splits Lyft bikes into e-bikes and the mechanical rest', () => {
    expect(one({ num_bikes_available: 10, num_ebikes_available: 7 }).bikes).toEqual({
      mechanical: 3,
      electric: 7,
      other: 0,
    });
  });

  it('types GBFS 2.1+ vehicle_types_available through vehicle_types, unknown ids as other', () => {
    const vehicleTypes = new Map<string, BikeType>([
      ['bike', 'mechanical'],
      ['ebike', 'electric'],
    ]);
    const s = one(
      {
        num_bikes_available: 9,
        vehicle_types_available: [
          { vehicle_type_id: 'bike', count: 2 },
          { vehicle_type_id: 'ebike', count: 3 },
          { vehicle_type_id: 'mystery', count: 4 },
        ],
      },
      { vehicleTypes },
    );
    expect(s.bikes).toEqual({ mechanical: 2, electric: 3, other: 4 });
    // Without vehicle_types nothing is known about the types.
    expect(
      one({ num_bikes_available: 2, vehicle_types_available: [{ vehicle_type_id: 'bike', count: 2 }] }).bikes,
    ).toEqual({
      mechanical: 0,
      electric: 0,
      other: 2,
    });
  });

  it('counts vehicles of unlisted types as other, since types may be omitted (GBFS: SHOULD add up)', () => {
    const s = one({ num_bikes_available: 6, num_bikes_available_types: [{ mechanical: 1 }, { ebike: 2 }] });
    expect(s.bikes).toEqual({ mechanical: 1, electric: 2, other: 3 });
  });

  it('counts bikes of an unknown type as other when the feed gives no breakdown', () => {
    expect(one({ num_bikes_available: 4 }).bikes).toEqual({ mechanical: 0, electric: 0, other: 4 });
  });
});

describe('counts and flags', () => {
  it('reads GBFS 3.x num_vehicles_* and Lyft disabled counts', () => {
    const s = one({
      num_vehicles_available: 4,
      num_vehicles_disabled: 1,
      num_docks_available: 6,
      num_docks_disabled: 2,
    });
    expect([s.bikes.other, s.bikesDisabled, s.docksAvailable, s.docksDisabled]).toEqual([4, 1, 6, 2]);
  });

  it("falls back on Vélib' camelCase counts and on 0 docks for a dockless (virtual) station", () => {
    const s = one({ numBikesAvailable: 3, numDocksAvailable: 9 });
    expect([s.bikes.other, s.docksAvailable]).toEqual([3, 9]);
    expect(one({ num_vehicles_available: 2 }).docksAvailable).toBe(0);
  });

  it('reads booleans, 0/1 and "true"/"false"; missing flags mean installed and working', () => {
    const s = one({ num_bikes_available: 0, is_installed: 'true', is_renting: 0, is_returning: 'false' });
    expect([s.isInstalled, s.isRenting, s.isReturning]).toEqual([true, false, false]);
    const bare = one({ num_bikes_available: 0 });
    expect([bare.isInstalled, bare.isRenting, bare.isReturning]).toEqual([true, true, true]);
  });

  it('treats a Lyft out_of_service station as neither renting nor returning', () => {
    const s = one({
      num_bikes_available: 1,
      is_installed: 1,
      is_renting: 1,
      is_returning: 1,
      station_status: 'out_of_service',
    });
    expect([s.isInstalled, s.isRenting, s.isReturning]).toEqual([true, false, false]);
  });

  it('reads last_reported in seconds, ms, RFC 3339; the Lyft 86400 sentinel and absence give null', () => {
    expect(one({ num_bikes_available: 0, last_reported: T - 5 }).lastReportedSec).toBe(T - 5);
    expect(one({ num_bikes_available: 0, last_reported: (T - 5) * 1000 }).lastReportedSec).toBe(T - 5);
    expect(one({ num_bikes_available: 0, last_reported: '2023-11-14T22:13:15Z' }).lastReportedSec).toBe(
      T - 5,
    );
    expect(one({ num_bikes_available: 0, last_reported: 86400 }).lastReportedSec).toBeNull();
    expect(one({ num_bikes_available: 0 }).lastReportedSec).toBeNull();
  });

  it('tolerates counts somewhat above capacity, as real feeds have', () => {
    // Vélib' Oct 2025: up to 16 over capacity; Bay Wheels: 24 on 13 docks.
    const capacities = new Map([['s1', 13]]);
    expect(
      one({ num_bikes_available: 6, num_bikes_disabled: 1, num_docks_available: 17 }, { capacities })
        .docksAvailable,
    ).toBe(17);
  });

  it('makes integer and string ids equal strings, and keeps the Vélib station code', () => {
    expect(one({ station_id: 19179944124, num_bikes_available: 0, stationCode: '40001' })).toMatchObject({
      stationId: '19179944124',
      code: '40001',
    });
    expect(one({ num_bikes_available: 0 }).code).toBeNull();
  });
});
