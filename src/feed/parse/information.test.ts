/** station_information, system_information and vehicle_types quirks. */
import { describe, expect, it } from 'vitest';
import { bikeTypeOf, parseStationInformation, parseSystemInformation, parseVehicleTypes } from './index.js';

const T = 1_700_000_000;
const names = [
  { text: 'Gare du Nord', language: 'fr' },
  { text: 'North Station', language: 'en' },
  { text: 'Nordbahnhof', language: 'de-AT' },
];

function station(fields: Record<string, unknown>, language?: string): unknown {
  const result = parseStationInformation(
    { last_updated: T, data: { stations: [{ station_id: 7, lat: 48.88, lon: 2.35, ...fields }] } },
    { language },
  );
  if (!result.ok) throw new Error(result.rejection.message);
  expect(result.rejections).toEqual([]);
  return result.doc.stations[0];
}

describe('station_information', () => {
  it('picks a localised name: configured language, else fr, else en, else the first', () => {
    expect(station({ name: names }, 'de')).toMatchObject({ name: 'Nordbahnhof' });
    expect(station({ name: names }, 'it')).toMatchObject({ name: 'Gare du Nord' });
    expect(station({ name: names })).toMatchObject({ name: 'Gare du Nord' });
    expect(station({ name: names.slice(1) })).toMatchObject({ name: 'North Station' });
    expect(station({ name: names.slice(2) })).toMatchObject({ name: 'Nordbahnhof' });
  });

  it("takes the code from short_name, else Vélib' stationCode, else the station id", () => {
    expect(station({ name: 'A', short_name: 'SF-Y7', stationCode: '1' })).toMatchObject({
      code: 'SF-Y7',
      stationId: '7',
    });
    expect(station({ name: 'A', short_name: [{ text: 'N1', language: 'en' }] })).toMatchObject({
      code: 'N1',
    });
    expect(station({ name: 'A', stationCode: '16107' })).toMatchObject({ code: '16107' });
    expect(station({ name: 'A', stationCode: 16107 })).toMatchObject({ code: '16107' });
    expect(station({ name: 'A' })).toMatchObject({ code: '7' });
  });

  it('gives null capacity when absent and the code as name when the name is missing', () => {
    expect(station({ stationCode: '9020' })).toEqual({
      stationId: '7',
      code: '9020',
      name: '9020',
      lat: 48.88,
      lon: 2.35,
      capacity: null,
    });
    expect(station({ name: 'A', capacity: 0 })).toMatchObject({ capacity: 0 });
  });
});

describe('system_information', () => {
  it('reads GBFS 2.x language and 3.x languages with localised names', () => {
    const v2 = parseSystemInformation({
      data: { system_id: 'x', name: 'Bay Wheels', timezone: 'America/Los_Angeles', language: 'en' },
    });
    expect(v2.ok && v2.doc).toEqual({
      systemId: 'x',
      name: 'Bay Wheels',
      timezone: 'America/Los_Angeles',
      language: 'en',
    });
    const v3 = parseSystemInformation({
      data: {
        name: [
          { text: 'Vélib', language: 'fr' },
          { text: 'Velib', language: 'en' },
        ],
        timezone: 'Europe/Paris',
        languages: ['en', 'fr'],
      },
    });
    expect(v3.ok && v3.doc).toEqual({
      systemId: null,
      name: 'Velib',
      timezone: 'Europe/Paris',
      language: 'en',
    });
  });
});

describe('vehicle_types', () => {
  it('maps propulsion and form factor to bike types', () => {
    expect(bikeTypeOf('bicycle', 'human')).toBe('mechanical');
    expect(bikeTypeOf('bicycle', 'electric_assist')).toBe('electric');
    expect(bikeTypeOf('bicycle', 'electric')).toBe('electric');
    expect(bikeTypeOf('cargo_bicycle', 'electric_assist')).toBe('electric');
    expect(bikeTypeOf('bicycle', 'combustion')).toBe('other');
    expect(bikeTypeOf('scooter', 'electric')).toBe('other');
    expect(bikeTypeOf('moped', 'electric')).toBe('other');
    expect(bikeTypeOf(undefined, 'human')).toBe('other');
  });

  it('keeps the good entries of a list with a broken one, and says so', () => {
    const result = parseVehicleTypes({
      data: {
        vehicle_types: [
          { vehicle_type_id: 'b', form_factor: 'bicycle', propulsion_type: 'human' },
          { form_factor: 'car' },
        ],
      },
    });
    if (!result.ok) throw new Error(result.rejection.message);
    expect([...result.doc]).toEqual([['b', 'mechanical']]);
    expect(result.rejections.map((r) => [r.feed, r.reason])).toEqual([['vehicle_types', 'bad_shape']]);
    expect(result.rejections[0]!.message).toContain('"form_factor":"car"');
  });
});
