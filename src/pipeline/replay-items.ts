import { readArchive, type ReadArchiveOptions } from '../archive/index.js';
import type { BikeType, InformationDocument, ParseResult, StatusDocument } from '../feed/model.js';
import { parseStationInformation, parseStationStatus, parseVehicleTypes } from '../feed/parse/index.js';

/**
 * A recorded document as the replay takes it: station_status and station_information already
 * normalised (the bulk of the work, done where the archive is read: Bay Wheels' information
 * documents are 280 kB each), system_information and vehicle_types raw (small).
 */
export type ReplayItem =
  | { feed: 'station_status'; timeSec: number; bytes: number; status: ParseResult<StatusDocument> }
  | {
      feed: 'station_information';
      timeSec: number;
      bytes: number;
      info: ParseResult<InformationDocument>;
    }
  | { feed: 'system_information' | 'vehicle_types'; timeSec: number; bytes: number; doc: unknown };

/**
 * readArchive + parseStationStatus, in document-time order. vehicle_types documents come before
 * the status documents of the same time (readArchive's tie order), so each status document is
 * read with the bike types known at its time.
 */
export async function* replayItems(
  paths: string[],
  opts: ReadArchiveOptions = {},
): AsyncGenerator<ReplayItem> {
  let vehicleTypes: Map<string, BikeType> | undefined;
  for await (const item of readArchive(paths, opts)) {
    if (item.feed === 'station_status') {
      const status = parseStationStatus(item.doc, vehicleTypes ? { vehicleTypes } : {});
      yield { feed: 'station_status', timeSec: item.timeSec, bytes: item.bytes, status };
      continue;
    }
    if (item.feed === 'station_information') {
      const info = parseStationInformation(item.doc);
      yield { feed: 'station_information', timeSec: item.timeSec, bytes: item.bytes, info };
      continue;
    }
    if (item.feed === 'vehicle_types') {
      const r = parseVehicleTypes(item.doc);
      if (r.ok) vehicleTypes = r.doc;
    }
    const feed = item.feed as 'system_information' | 'vehicle_types';
    yield { feed, timeSec: item.timeSec, bytes: item.bytes, doc: item.doc };
  }
}
