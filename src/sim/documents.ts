/**
 * The documents the simulator serves, built from the model: GBFS 2.3 (validated in tests against
 * MobilityData's schemas) and the Vélib' Métropole dialect (shape copied from the real feed's
 * structure, described in ../shared/README.md: lastUpdatedOther, ttl 3600, no version, integer
 * station_id, stationCode, num_bikes_available_types as [{mechanical}, {ebike}], 0/1 flags,
 * camelCase duplicates, station_opening_hours null).
 */
import type { SimModel } from './model.js';
import type { SimStationDef } from './stations.js';

export type SimShape = 'gbfs' | 'velib';

export interface SystemMeta {
  systemId: string;
  name: string;
  timezone: string;
}

/** station_status updates every step; GBFS asks ttl to say when to look again. */
const GBFS_STATUS_TTL_SEC = 60;
const GBFS_STATIC_TTL_SEC = 3600;
/** Vélib' says 3600 although its data changes every minute (a known quirk, kept on purpose). */
const VELIB_TTL_SEC = 3600;

const VEHICLE_TYPES = [
  { vehicle_type_id: 'mechanical', form_factor: 'bicycle', propulsion_type: 'human', name: 'Vélo mécanique' },
  {
    vehicle_type_id: 'electric',
    form_factor: 'bicycle',
    propulsion_type: 'electric_assist',
    max_range_meters: 50000,
    name: 'Vélo à assistance électrique',
  },
];

function gbfsEnvelope(lastUpdatedSec: number, ttl: number, data: object): object {
  return { last_updated: lastUpdatedSec, ttl, version: '2.3', data };
}
function velibEnvelope(lastUpdatedSec: number, data: object): object {
  return { lastUpdatedOther: lastUpdatedSec, ttl: VELIB_TTL_SEC, data };
}

export function statusDocument(shape: SimShape, model: SimModel, lastUpdatedSec: number): object {
  const n = model.count;
  const stations: object[] = new Array<object>(n);
  for (let i = 0; i < n; i++) {
    const s = model.stations[i] as SimStationDef;
    const m = model.mechanical[i] as number;
    const e = model.electric[i] as number;
    const docks = model.docksAvailable(i);
    const lastReported = Math.floor(model.lastReportedSec[i] as number);
    stations[i] =
      shape === 'gbfs'
        ? {
            station_id: s.stationId,
            num_bikes_available: m + e,
            num_bikes_disabled: model.bikesDisabled[i] as number,
            num_docks_available: docks,
            num_docks_disabled: model.docksDisabled[i] as number,
            is_installed: s.installed,
            is_renting: s.renting,
            is_returning: s.returning,
            last_reported: lastReported,
            // Available bikes by type (disabled ones excluded), so the types sum to num_bikes_available.
            vehicle_types_available: [
              { vehicle_type_id: 'mechanical', count: m },
              { vehicle_type_id: 'electric', count: e },
            ],
          }
        : {
            station_id: s.numericId,
            num_bikes_available: m + e,
            numBikesAvailable: m + e,
            num_bikes_available_types: [{ mechanical: m }, { ebike: e }],
            num_docks_available: docks,
            numDocksAvailable: docks,
            is_installed: s.installed ? 1 : 0,
            is_returning: s.returning ? 1 : 0,
            is_renting: s.renting ? 1 : 0,
            last_reported: lastReported,
            stationCode: s.code,
            station_opening_hours: null,
          };
  }
  return shape === 'gbfs'
    ? gbfsEnvelope(lastUpdatedSec, GBFS_STATUS_TTL_SEC, { stations })
    : velibEnvelope(lastUpdatedSec, { stations });
}

export function informationDocument(
  shape: SimShape,
  stations: readonly SimStationDef[],
  lastUpdatedSec: number,
): object {
  if (shape === 'gbfs') {
    return gbfsEnvelope(lastUpdatedSec, GBFS_STATIC_TTL_SEC, {
      stations: stations.map((s) => ({
        station_id: s.stationId,
        name: s.name,
        short_name: s.code,
        lat: s.lat,
        lon: s.lon,
        capacity: s.capacity,
        rental_methods: ['key', 'creditcard'],
      })),
    });
  }
  return velibEnvelope(lastUpdatedSec, {
    stations: stations.map((s) => ({
      station_id: s.numericId,
      stationCode: s.code,
      name: s.name,
      lat: s.lat,
      lon: s.lon,
      capacity: s.capacity,
      station_opening_hours: null,
    })),
  });
}

export function systemInformationDocument(shape: SimShape, meta: SystemMeta, lastUpdatedSec: number): object {
  const data = { system_id: meta.systemId, language: 'fr', name: meta.name, timezone: meta.timezone };
  return shape === 'gbfs'
    ? gbfsEnvelope(lastUpdatedSec, GBFS_STATIC_TTL_SEC, data)
    : velibEnvelope(lastUpdatedSec, data);
}

export function vehicleTypesDocument(lastUpdatedSec: number): object {
  return gbfsEnvelope(lastUpdatedSec, GBFS_STATIC_TTL_SEC, { vehicle_types: VEHICLE_TYPES });
}

/** Feeds each shape publishes (Vélib' has no vehicle_types). */
export function feedsOf(shape: SimShape): string[] {
  return shape === 'gbfs'
    ? ['system_information', 'station_information', 'station_status', 'vehicle_types']
    : ['system_information', 'station_information', 'station_status'];
}

/** gbfs.json: the same feed list under `en` and `fr`, URLs absolute (GBFS requires full URLs). */
export function discoveryDocument(shape: SimShape, baseUrl: string, lastUpdatedSec: number): object {
  const prefix = shape === 'gbfs' ? baseUrl : `${baseUrl}/velib`;
  const feeds = feedsOf(shape).map((name) => ({ name, url: `${prefix}/${name}.json` }));
  const data = { en: { feeds }, fr: { feeds } };
  return shape === 'gbfs'
    ? gbfsEnvelope(lastUpdatedSec, GBFS_STATIC_TTL_SEC, data)
    : velibEnvelope(lastUpdatedSec, data);
}
