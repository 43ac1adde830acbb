/**
 * station_information of every GBFS version and Vélib', normalised to `InformationDocument`.
 */
import type { InformationDocument, ParseResult, Rejection, StationInfo } from '../model.js';
import type { Json } from './document.js';
import {
  readDataArray,
  readDocumentTimeSec,
  readRoot,
  readStationId,
  readVersion,
  rejection,
} from './document.js';
import { dropDuplicates } from './duplicates.js';
import { pickLocalized } from './localized.js';
import { MISSING, NEGATIVE, isObject, readCount, show, readTtlSec } from './values.js';

export interface InformationParseOptions {
  /** Preferred language for GBFS 3.x localised names (then fr, en, the first). */
  language?: string;
  /** Version announced by gbfs.json, used when the document claims none. */
  feedVersion?: string;
}

const FEED = 'station_information';

export function parseStationInformation(
  body: unknown,
  opts: InformationParseOptions = {},
): ParseResult<InformationDocument> {
  const root = readRoot(body, FEED);
  if (!root.ok) return root;
  const time = readDocumentTimeSec(root.root, FEED);
  if (!time.ok) return time;
  const list = readDataArray(root.root, FEED, 'stations');
  if (!list.ok) return list;

  const rejections: Rejection[] = [];
  let stations: StationInfo[] = [];
  const copies = new Map<string, number>();
  let duplicated = false;
  list.items.forEach((raw: unknown, i) => {
    if (!isObject(raw)) {
      rejections.push(
        rejection(FEED, null, 'bad_station', `Entry ${i} of data.stations is not an object: ${show(raw)}.`),
      );
      return;
    }
    const id = readStationId(raw.station_id);
    if (id === null) {
      const message = `Entry ${i} of data.stations has no usable station_id (got ${show(raw.station_id)}).`;
      rejections.push(rejection(FEED, null, 'missing_station_id', message));
      return;
    }
    const seen = copies.get(id);
    copies.set(id, (seen ?? 0) + 1);
    if (seen !== undefined) {
      duplicated = true;
      return;
    }
    const station = parseStation(id, raw, opts.language, rejections);
    if (station !== null) stations.push(station);
  });
  if (duplicated) stations = dropDuplicates(FEED, stations, copies, rejections);

  const doc: InformationDocument = {
    lastUpdatedSec: time.timeSec,
    ttlSec: readTtlSec(root.root.ttl),
    version: readVersion(root.root, opts.feedVersion),
    stations,
  };
  return { ok: true, doc, rejections };
}

function parseStation(
  id: string,
  raw: Json,
  language: string | undefined,
  rejections: Rejection[],
): StationInfo | null {
  const drop = (reason: Rejection['reason'], message: string): null => {
    rejections.push(rejection(FEED, id, reason, message));
    return null;
  };

  // short_name (GBFS; localised in 3.x) is the code riders know; Vélib' calls it stationCode.
  const shortName = pickLocalized(raw.short_name, language);
  if (shortName === null)
    return drop('bad_station', `Station ${id} has a malformed short_name ${show(raw.short_name)}.`);
  const stationCode = raw.stationCode;
  const code =
    shortName ??
    (typeof stationCode === 'string' && stationCode !== ''
      ? stationCode
      : typeof stationCode === 'number'
        ? String(stationCode)
        : id);

  const name = pickLocalized(raw.name, language);
  if (name === null) return drop('bad_station', `Station ${id} has a malformed name ${show(raw.name)}.`);

  const { lat, lon } = raw;
  if (
    typeof lat !== 'number' ||
    typeof lon !== 'number' ||
    !(lat >= -90 && lat <= 90) ||
    !(lon >= -180 && lon <= 180)
  ) {
    return drop(
      'bad_coordinates',
      `Station ${id} has coordinates out of range: lat ${show(lat)}, lon ${show(lon)}.`,
    );
  }
  // (0, 0) is in the Gulf of Guinea: the classic placeholder of an unplaced station.
  if (lat === 0 && lon === 0) return drop('bad_coordinates', `Station ${id} is placed at lat 0, lon 0.`);

  const capacity = readCount(raw.capacity);
  if (capacity === NEGATIVE)
    return drop('negative_count', `Station ${id} has a negative capacity ${show(raw.capacity)}.`);
  if (capacity < 0 && capacity !== MISSING) {
    return drop('bad_station', `Station ${id} has a capacity that is not an integer: ${show(raw.capacity)}.`);
  }

  return {
    stationId: id,
    code,
    // A nameless station is still a station: show the code people know.
    name: name ?? code,
    lat,
    lon,
    capacity: capacity === MISSING ? null : capacity,
  };
}
