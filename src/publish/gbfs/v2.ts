/**
 * GBFS 2.3 documents of the corrected feed. Times are POSIX seconds in 2.3. Field rules from the
 * GBFS 2.3 reference (MobilityData/gbfs, gbfs.md at v2.3); checked against the official JSON
 * schemas in the tests.
 */
import type { CorrectedStation, GbfsSource } from './source.js';
import { extensionFields } from './extension.js';
import type { GbfsFile, GbfsUrls } from './urls.js';

interface Envelope<T> {
  last_updated: number;
  ttl: number;
  version: '2.3';
  data: T;
}

function envelope<T>(src: GbfsSource, data: T): Envelope<T> {
  return { last_updated: src.timeSec, ttl: src.ttlSec, version: '2.3', data };
}

export function gbfsV2(src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  const feeds = (
    ['gbfs_versions', 'system_information', 'station_information', 'station_status'] as const
  ).map((name) => ({ name, url: urls.file('2.3', name) }));
  // 2.3 groups the feeds by language: the language every name in the feed is written in.
  return envelope(src, { [src.system.language]: { feeds } });
}

export function gbfsVersionsV2(src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  return envelope(src, { versions: urls.versions() });
}

export function systemInformationV2(src: GbfsSource): Envelope<unknown> {
  const s = src.system;
  return envelope(src, {
    system_id: s.id,
    language: s.language,
    name: s.name,
    timezone: s.timezone,
    feed_contact_email: s.feedContactEmail,
  });
}

function stationInformationItem(c: CorrectedStation): Record<string, unknown> {
  const i = c.info;
  const out: Record<string, unknown> = { station_id: i.stationId, name: i.name, lat: i.lat, lon: i.lon };
  if (i.code && i.code !== i.stationId) out['short_name'] = i.code;
  if (i.capacity !== null) out['capacity'] = i.capacity;
  return out;
}

export function stationInformationV2(src: GbfsSource): Envelope<unknown> {
  return envelope(src, { stations: src.stations.map(stationInformationItem) });
}

function stationStatusItem(c: CorrectedStation, timeSec: number): Record<string, unknown> {
  const s = c.status;
  return {
    station_id: s.stationId,
    num_bikes_available: s.bikes.mechanical + s.bikes.electric + s.bikes.other,
    num_bikes_disabled: s.bikesDisabled,
    num_docks_available: s.docksAvailable,
    num_docks_disabled: s.docksDisabled,
    is_installed: s.isInstalled,
    is_renting: c.isRenting,
    is_returning: c.isReturning,
    // Required by GBFS; a feed that never said (rare) gets the document time.
    last_reported: s.lastReportedSec ?? timeSec,
    ...extensionFields(c, (t) => t),
  };
}

export function stationStatusV2(src: GbfsSource): Envelope<unknown> {
  return envelope(src, { stations: src.stations.map((c) => stationStatusItem(c, src.timeSec)) });
}

export function buildV2(file: GbfsFile, src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  switch (file) {
    case 'gbfs':
      return gbfsV2(src, urls);
    case 'gbfs_versions':
      return gbfsVersionsV2(src, urls);
    case 'system_information':
      return systemInformationV2(src);
    case 'station_information':
      return stationInformationV2(src);
    case 'station_status':
      return stationStatusV2(src);
  }
}
