import { describe, expect, it } from 'vitest';
import { parseDiscovery } from './index.js';

const feeds = (prefix: string): { name: string; url: string }[] =>
  ['system_information', 'station_information', 'station_status'].map((name) => ({
    name,
    url: `${prefix}/${name}.json`,
  }));

describe('parseDiscovery', () => {
  it('reads GBFS 3.x data.feeds', () => {
    const result = parseDiscovery({
      last_updated: '2024-01-01T00:00:00Z',
      version: '3.0',
      data: { feeds: feeds('https://a') },
    });
    expect(result.ok && result.doc).toEqual({
      version: '3.0',
      stationStatus: 'https://a/station_status.json',
      stationInformation: 'https://a/station_information.json',
      systemInformation: 'https://a/system_information.json',
      vehicleTypes: null,
    });
  });

  it('chooses among 1.x/2.x languages: configured, else fr, else en, else the first', () => {
    const data = {
      de: { feeds: feeds('https://de') },
      en: { feeds: feeds('https://en') },
      fr: { feeds: feeds('https://fr') },
    };
    const pick = (d: object, language?: string): string | null => {
      const r = parseDiscovery(JSON.stringify({ data: d }), { language });
      return r.ok ? r.doc.stationStatus.split('/')[2]! : null;
    };
    expect(pick(data, 'de')).toBe('de');
    expect(pick(data, 'es')).toBe('fr');
    expect(pick(data)).toBe('fr');
    expect(pick({ de: data.de, en: data.en })).toBe('en');
    expect(pick({ de: data.de })).toBe('de');
  });

  it('reads a Vélib-like document with no version, and vehicle_types when listed', () => {
    const list = [...feeds('https://v'), { name: 'vehicle_types', url: 'https://v/vt.json' }];
    const result = parseDiscovery({ lastUpdatedOther: 1760778556, ttl: 3600, data: { en: { feeds: list } } });
    expect(result.ok && [result.doc.version, result.doc.vehicleTypes]).toEqual([null, 'https://v/vt.json']);
  });

  it('names every missing mandatory feed', () => {
    const result = parseDiscovery({ data: { feeds: [{ name: 'system_information', url: 'https://x' }] } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.rejection).toMatchObject({ feed: 'gbfs', reason: 'bad_shape', stationId: null });
      expect(result.rejection.message).toContain('no station_status and station_information feed');
      expect(result.rejection.message).toContain('feeds listed: system_information');
    }
  });
});
