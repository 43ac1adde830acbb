import { describe, expect, it } from 'vitest';
import { FaultSpecError, parseDurationSec, parseFaultFlag, validateFaultSpec } from './fault-spec.js';

describe('fault specs', () => {
  it('parses the compact command-line form', () => {
    expect(parseFaultFlag('locked:station=16107,start=+2h,duration=6h')).toEqual({
      kind: 'locked',
      stationId: '16107',
      startInSec: 7200,
      durationSec: 21600,
    });
    expect(parseFaultFlag('stuck_bikes:station=42,k=3,type=electric')).toEqual({
      kind: 'stuck_bikes',
      stationId: '42',
      count: 3,
      bikeType: 'electric',
    });
    expect(parseFaultFlag('outage:mode=reset,start=30m,for=10m')).toEqual({
      kind: 'outage',
      mode: 'reset',
      startInSec: 1800,
      durationSec: 600,
    });
    expect(parseFaultFlag('malformed:mode=truncated,n=5,feeds=station_status+station_information')).toEqual({
      kind: 'malformed',
      mode: 'truncated',
      requests: 5,
      feeds: ['station_status', 'station_information'],
    });
    expect(parseFaultFlag('frozen_timestamp:start=2025-10-06T08:00:00Z')).toEqual({
      kind: 'frozen_timestamp',
      startSec: Date.UTC(2025, 9, 6, 8) / 1000,
    });
    expect(parseFaultFlag('outage')).toEqual({ kind: 'outage' });
  });

  it('parses the JSON form and turns numeric station ids into strings', () => {
    expect(parseFaultFlag('{"kind":"rent_only_lock","stationId":213688169,"durationSec":3600}')).toEqual({
      kind: 'rent_only_lock',
      stationId: '213688169',
      durationSec: 3600,
    });
  });

  it.each([
    ['nonsense:station=1', /kind/],
    ['locked', /stationId/],
    ['locked:station=1,colour=red', /unknown key "colour"/],
    ['locked:station=1,duration=soon', /invalid duration "soon"/],
    ['stuck_bikes:station=1,k=0', /count/],
    ['malformed:feeds=bikes', /feeds/],
    ['outage:mode=explode', /mode/],
    ['locked:station', /not key=value/],
    ['{"kind":', /not valid JSON/],
  ])('rejects %s with a clear message', (flag, message) => {
    expect(() => parseFaultFlag(flag)).toThrow(FaultSpecError);
    expect(() => parseFaultFlag(flag)).toThrow(message);
  });

  it('rejects unknown fields in JSON (a typo must not silently become a different fault)', () => {
    expect(() => validateFaultSpec({ kind: 'locked', stationId: '1', duration: 60 })).toThrow(/duration/);
  });

  it('parses durations with units', () => {
    expect(parseDurationSec('90')).toBe(90);
    expect(parseDurationSec('15m')).toBe(900);
    expect(parseDurationSec('1.5d')).toBe(129600);
  });
});
