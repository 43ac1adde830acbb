/**
 * GBFS 3.0 documents of the corrected feed. What changes from 2.3 (MobilityData/gbfs, gbfs.md at
 * v3.0): times are RFC 3339 strings, names are lists of `{ text, language }`, `num_bikes_*` became
 * `num_vehicles_*`, gbfs.json lists its feeds without a language level, system_information
 * requires `opening_hours` and `feed_contact_email`, and a manifest indexes the data sets.
 */
import { rfc3339 } from '../time.js';
import { extensionFields } from './extension.js';
import type { CorrectedStation, GbfsSource } from './source.js';
import type { GbfsFile, GbfsUrls } from './urls.js';

interface Envelope<T> {
  last_updated: string;
  ttl: number;
  version: '3.0';
  data: T;
}

interface Localized {
  text: string;
  language: string;
}

function envelope<T>(src: GbfsSource, data: T): Envelope<T> {
  return { last_updated: rfc3339(src.timeSec), ttl: src.ttlSec, version: '3.0', data };
}

const localized = (text: string, language: string): Localized[] => [{ text, language }];

export function gbfsV3(src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  const feeds = (
    ['gbfs_versions', 'system_information', 'station_information', 'station_status'] as const
  ).map((name) => ({ name, url: urls.file('3.0', name) }));
  return envelope(src, { feeds });
}

export function gbfsVersionsV3(src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  return envelope(src, { versions: urls.versions() });
}

/** One data set (this system), published in every version we serve. */
export function manifestV3(src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  return envelope(src, { datasets: [{ system_id: src.system.id, versions: urls.versions() }] });
}

export function systemInformationV3(src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  const s = src.system;
  return envelope(src, {
    system_id: s.id,
    languages: [s.language],
    name: localized(s.name, s.language),
    opening_hours: s.openingHours,
    feed_contact_email: s.feedContactEmail,
    timezone: s.timezone,
    manifest_url: urls.manifest(),
  });
}

function stationInformationItem(c: CorrectedStation, language: string): Record<string, unknown> {
  const i = c.info;
  const out: Record<string, unknown> = {
    station_id: i.stationId,
    name: localized(i.name, language),
    lat: i.lat,
    lon: i.lon,
  };
  if (i.code && i.code !== i.stationId) out['short_name'] = localized(i.code, language);
  if (i.capacity !== null) out['capacity'] = i.capacity;
  return out;
}

export function stationInformationV3(src: GbfsSource): Envelope<unknown> {
  const language = src.system.language;
  return envelope(src, { stations: src.stations.map((c) => stationInformationItem(c, language)) });
}

function stationStatusItem(c: CorrectedStation, timeSec: number): Record<string, unknown> {
  const s = c.status;
  return {
    station_id: s.stationId,
    num_vehicles_available: s.bikes.mechanical + s.bikes.electric + s.bikes.other,
    num_vehicles_disabled: s.bikesDisabled,
    num_docks_available: s.docksAvailable,
    num_docks_disabled: s.docksDisabled,
    is_installed: s.isInstalled,
    is_renting: c.isRenting,
    is_returning: c.isReturning,
    last_reported: rfc3339(s.lastReportedSec ?? timeSec),
    ...extensionFields(c, rfc3339),
  };
}

export function stationStatusV3(src: GbfsSource): Envelope<unknown> {
  return envelope(src, { stations: src.stations.map((c) => stationStatusItem(c, src.timeSec)) });
}

export function buildV3(file: GbfsFile, src: GbfsSource, urls: GbfsUrls): Envelope<unknown> {
  switch (file) {
    case 'gbfs':
      return gbfsV3(src, urls);
    case 'gbfs_versions':
      return gbfsVersionsV3(src, urls);
    case 'system_information':
      return systemInformationV3(src, urls);
    case 'station_information':
      return stationInformationV3(src);
    case 'station_status':
      return stationStatusV3(src);
  }
}
