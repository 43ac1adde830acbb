/**
 * Broken documents: each fault gives its stable reason code, names the station when only a station
 * is dropped, keeps everything else, and says what was wrong with the offending value.
 */
import { describe, expect, it } from 'vitest';
import type { RejectReason } from '../model.js';
import {
  parseDiscovery,
  parseStationInformation,
  parseStationStatus,
  parseSystemInformation,
  parseVehicleTypes,
} from './index.js';

const T = 1_700_000_000;
const good = {
  station_id: 'good',
  num_bikes_available: 3,
  num_docks_available: 7,
  is_installed: true,
  is_renting: true,
  is_returning: true,
  last_reported: T,
};
const status = (...stations: unknown[]): unknown => ({
  last_updated: T,
  ttl: 60,
  data: { stations: [good, ...stations] },
});
const station = (fields: Record<string, unknown>): Record<string, unknown> => ({
  ...good,
  station_id: 'bad',
  ...fields,
});

const goodInfo = { station_id: 'good', name: 'Good', lat: 48.85, lon: 2.35, capacity: 20 };
const info = (...stations: unknown[]): unknown => ({
  last_updated: T,
  ttl: 60,
  data: { stations: [goodInfo, ...stations] },
});
const place = (fields: Record<string, unknown>): Record<string, unknown> => ({
  ...goodInfo,
  station_id: 'bad',
  ...fields,
});

type Parser = (
  body: unknown,
) => { ok: boolean } & (
  | { ok: true; rejections: { stationId: string | null; reason: RejectReason; message: string }[] }
  | { ok: false; rejection: { stationId: string | null; reason: RejectReason; message: string } }
);

interface Case {
  name: string;
  parse: Parser;
  body: unknown;
  reason: RejectReason;
  /** Dropped station; absent for a whole-document rejection. */
  stationId?: string | null;
  /** Text the message must quote (the offending value or field). */
  quotes: string;
}

const S: Parser = (b) => parseStationStatus(b);
const I: Parser = (b) => parseStationInformation(b);

const cases: Case[] = [
  // Whole documents.
  {
    name: 'not JSON',
    parse: S,
    body: '{"last_updated": 17',
    reason: 'not_json',
    quotes: '{\\"last_updated\\": 17',
  },
  { name: 'empty body', parse: S, body: '', reason: 'not_json', quotes: 'not JSON' },
  { name: 'HTML error page', parse: S, body: '<html>502</html>', reason: 'not_json', quotes: '<html>' },
  { name: 'a JSON array', parse: S, body: '[1,2]', reason: 'bad_shape', quotes: '[1,2]' },
  { name: 'JSON null', parse: S, body: null, reason: 'bad_shape', quotes: 'null' },
  { name: 'no data', parse: S, body: { last_updated: T }, reason: 'bad_shape', quotes: '"data"' },
  {
    name: 'stations not an array',
    parse: S,
    body: { last_updated: T, data: { stations: {} } },
    reason: 'bad_shape',
    quotes: '{}',
  },
  {
    name: 'no timestamp',
    parse: S,
    body: { data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: 'last_updated',
  },
  {
    name: 'timestamp in words',
    parse: S,
    body: { last_updated: 'yesterday', data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: '"yesterday"',
  },
  {
    name: 'negative timestamp',
    parse: S,
    body: { last_updated: -5, data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: '-5',
  },
  {
    name: 'timestamp before 2000',
    parse: S,
    body: { last_updated: 86400, data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: '86400',
  },
  {
    name: '31 February',
    parse: S,
    body: { last_updated: '2024-02-31T10:00:00Z', data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: '2024-02-31',
  },
  {
    name: 'timestamp in microseconds',
    parse: S,
    body: { last_updated: T * 1e6, data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: '1700000000000000',
  },
  {
    name: 'boolean timestamp',
    parse: S,
    body: { lastUpdatedOther: true, data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: 'true',
  },
  // One station of a status document.
  {
    name: 'station without id',
    parse: S,
    body: status(station({ station_id: undefined })),
    reason: 'missing_station_id',
    stationId: null,
    quotes: 'nothing',
  },
  {
    name: 'empty station id',
    parse: S,
    body: status(station({ station_id: '' })),
    reason: 'missing_station_id',
    stationId: null,
    quotes: '""',
  },
  {
    name: 'object as station id',
    parse: S,
    body: status(station({ station_id: { id: 1 } })),
    reason: 'missing_station_id',
    stationId: null,
    quotes: '{"id":1}',
  },
  {
    name: 'station that is not an object',
    parse: S,
    body: status(42),
    reason: 'bad_station',
    stationId: null,
    quotes: '42',
  },
  {
    name: 'duplicate id',
    parse: S,
    body: status(station({}), station({ num_bikes_available: 1 })),
    reason: 'duplicate_station_id',
    stationId: 'bad',
    quotes: '2 times',
  },
  {
    name: 'count as a string',
    parse: S,
    body: status(station({ num_bikes_available: '5' })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: '"5"',
  },
  {
    name: 'fractional count',
    parse: S,
    body: status(station({ num_docks_available: 2.5 })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: '2.5',
  },
  {
    name: 'no bike count',
    parse: S,
    body: status(station({ num_bikes_available: undefined })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: 'num_bikes_available',
  },
  {
    name: 'negative docks',
    parse: S,
    body: status(station({ num_docks_available: -1 })),
    reason: 'negative_count',
    stationId: 'bad',
    quotes: '-1',
  },
  {
    name: 'negative disabled bikes',
    parse: S,
    body: status(station({ num_bikes_disabled: -2 })),
    reason: 'negative_count',
    stationId: 'bad',
    quotes: '-2',
  },
  {
    name: 'negative type count',
    parse: S,
    body: status(station({ vehicle_types_available: [{ vehicle_type_id: 'x', count: -4 }] })),
    reason: 'negative_count',
    stationId: 'bad',
    quotes: '-4',
  },
  {
    name: 'unsigned underflow',
    parse: S,
    body: status(station({ num_docks_available: 4294967295 })),
    reason: 'impossible_count',
    stationId: 'bad',
    quotes: '4294967295',
  },
  {
    name: 'more e-bikes than bikes (Lyft)',
    parse: S,
    body: status(station({ num_ebikes_available: 9 })),
    reason: 'impossible_count',
    stationId: 'bad',
    quotes: '9 e-bikes',
  },
  {
    name: 'Vélib types above total',
    parse: S,
    body: status(station({ num_bikes_available_types: [{ mechanical: 2 }, { ebike: 2 }] })),
    reason: 'impossible_count',
    stationId: 'bad',
    quotes: '4 bikes by type',
  },
  {
    name: 'vehicle types above total',
    parse: S,
    body: status(station({ vehicle_types_available: [{ vehicle_type_id: 'x', count: 5 }] })),
    reason: 'impossible_count',
    stationId: 'bad',
    quotes: '5 bikes by type',
  },
  {
    name: 'malformed type list',
    parse: S,
    body: status(station({ vehicle_types_available: [{ count: 1 }] })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: '{"count":1}',
  },
  {
    name: 'flag "yes"',
    parse: S,
    body: status(station({ is_renting: 'yes' })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: '"yes"',
  },
  {
    name: 'flag 2',
    parse: S,
    body: status(station({ is_installed: 2 })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: 'is_installed 2',
  },
  {
    name: 'last_reported in words',
    parse: S,
    body: status(station({ last_reported: 'soon' })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: '"soon"',
  },
  {
    name: 'far above capacity',
    parse: (b) => parseStationStatus(b, { capacities: new Map([['bad', 10]]) }),
    body: status(station({ num_bikes_available: 35, num_docks_available: 10 })),
    reason: 'impossible_count',
    stationId: 'bad',
    quotes: 'capacity of 10',
  },
  // One station of an information document.
  {
    name: 'latitude 91',
    parse: I,
    body: info(place({ lat: 91 })),
    reason: 'bad_coordinates',
    stationId: 'bad',
    quotes: 'lat 91',
  },
  {
    name: 'no longitude',
    parse: I,
    body: info(place({ lon: undefined })),
    reason: 'bad_coordinates',
    stationId: 'bad',
    quotes: 'lon nothing',
  },
  {
    name: 'coordinates as strings',
    parse: I,
    body: info(place({ lat: '48.8' })),
    reason: 'bad_coordinates',
    stationId: 'bad',
    quotes: '"48.8"',
  },
  {
    name: 'null island',
    parse: I,
    body: info(place({ lat: 0, lon: 0 })),
    reason: 'bad_coordinates',
    stationId: 'bad',
    quotes: 'lat 0, lon 0',
  },
  {
    name: 'negative capacity',
    parse: I,
    body: info(place({ capacity: -3 })),
    reason: 'negative_count',
    stationId: 'bad',
    quotes: '-3',
  },
  {
    name: 'numeric name',
    parse: I,
    body: info(place({ name: 42 })),
    reason: 'bad_station',
    stationId: 'bad',
    quotes: '42',
  },
  {
    name: 'duplicate in information',
    parse: I,
    body: info(place({}), place({})),
    reason: 'duplicate_station_id',
    stationId: 'bad',
    quotes: '"bad"',
  },
  {
    name: 'information without timestamp',
    parse: I,
    body: { data: { stations: [] } },
    reason: 'bad_timestamp',
    quotes: 'station_information',
  },
  // Other feeds.
  {
    name: 'system without timezone (Vélib)',
    parse: (b) => parseSystemInformation(b),
    body: { data: { name: 'Vélib' } },
    reason: 'bad_shape',
    quotes: 'no timezone',
  },
  {
    name: 'unknown timezone',
    parse: (b) => parseSystemInformation(b),
    body: { data: { timezone: 'Mars/Olympus' } },
    reason: 'bad_shape',
    quotes: '"Mars/Olympus"',
  },
  {
    name: 'vehicle_types without list',
    parse: (b) => parseVehicleTypes(b),
    body: { data: {} },
    reason: 'bad_shape',
    quotes: 'data.vehicle_types',
  },
  {
    name: 'gbfs.json without station_status',
    parse: (b) => parseDiscovery(b),
    body: { data: { en: { feeds: [{ name: 'station_information', url: 'https://x/si' }] } } },
    reason: 'bad_shape',
    quotes: 'no station_status feed',
  },
  {
    name: 'gbfs.json without feeds',
    parse: (b) => parseDiscovery(b),
    body: { data: { fr: {} } },
    reason: 'bad_shape',
    quotes: 'data.<language>.feeds',
  },
];

describe('broken documents', () => {
  it('cover at least 20 kinds of fault', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('$name → $reason', (c) => {
    const result = c.parse(c.body);
    if (c.stationId === undefined) {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.rejection.reason).toBe(c.reason);
      expect(result.rejection.stationId).toBeNull();
      expect(result.rejection.message).toContain(c.quotes);
      expect(result.rejection.message).toMatch(/^[A-Z].*\.$/s);
      return;
    }
    if (!result.ok) throw new Error(`whole document rejected: ${result.rejection.message}`);
    expect(result.rejections).toHaveLength(1);
    const [r] = result.rejections;
    expect(r!.reason).toBe(c.reason);
    expect(r!.stationId).toBe(c.stationId);
    expect(r!.message).toContain(c.quotes);
    expect(r!.message).toMatch(/^[A-Z].*\.$/s);
    // Only the faulty station goes; the good one stays.
    const doc = (result as unknown as { doc: { stations: { stationId: string }[] } }).doc;
    expect(doc.stations.map((s) => s.stationId)).toEqual(['good']);
  });
});
