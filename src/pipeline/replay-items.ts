import {
  badLineError,
  documentTimeSec,
  parseLine,
  readArchive,
  type ArchiveError,
  type RawLine,
  type ReadArchiveOptions,
} from '../archive/index.js';
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

/** A station_status line left unparsed (only with `rawStatus`): see parseRawStatus. */
export interface RawStatusItem {
  feed: 'station_status';
  timeSec: number;
  bytes: number;
  raw: RawLine;
}

/**
 * readArchive + parseStationStatus, in document-time order. vehicle_types documents come before
 * the status documents of the same time (readArchive's tie order), so each status document is
 * read with the bike types known at its time.
 */
/** With `rawStatus`: some station_status lines come unparsed (readArchive's `raw`). */
export function replayItems(
  paths: string[],
  opts: ReadArchiveOptions & { rawStatus: () => boolean },
): AsyncGenerator<ReplayItem | RawStatusItem>;
export function replayItems(
  paths: string[],
  opts?: Omit<ReadArchiveOptions, 'rawStatus'>,
): AsyncGenerator<ReplayItem>;
export async function* replayItems(
  paths: string[],
  opts: ReadArchiveOptions = {},
): AsyncGenerator<ReplayItem | RawStatusItem> {
  let vehicleTypes: Map<string, BikeType> | undefined;
  for await (const item of readArchive(paths, opts)) {
    if (item.raw !== undefined) {
      yield { feed: 'station_status', timeSec: item.timeSec, bytes: item.bytes, raw: item.raw };
      continue;
    }
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

/**
 * What replayItems would have made of a raw status line, parsed on the thread that takes it:
 * `null` when the line is not JSON (reported through `onError` exactly as readArchive reports a
 * bad line, and counted by the caller). `vehicleTypes`: those in force at the line's time.
 */
export function parseRawStatus(
  item: RawStatusItem,
  vehicleTypes: Map<string, BikeType> | undefined,
  onError: (e: ArchiveError) => void,
): ReplayItem | null {
  const { text, file, line, where } = item.raw;
  let doc: unknown;
  try {
    doc = parseLine(text);
  } catch (err) {
    onError(badLineError(file, line, where, err));
    return null;
  }
  // The reader merged the feeds on the time it read from the line's tail: exact for JSON.
  if (documentTimeSec(doc) !== item.timeSec)
    throw new Error(
      `replay: ${file} line ${line}: time read from the tail (${item.timeSec}) is not the document's`,
    );
  const status = parseStationStatus(doc, vehicleTypes ? { vehicleTypes } : {});
  return { feed: 'station_status', timeSec: item.timeSec, bytes: item.bytes, status };
}
