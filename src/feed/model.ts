/**
 * The normalised station model every GBFS version (1.0 → 3.1) and every quirky feed (Vélib', Lyft)
 * is turned into. Everything downstream of `feed/` sees only these types.
 */

export const BIKE_TYPES = ['mechanical', 'electric', 'other'] as const;
export type BikeType = (typeof BIKE_TYPES)[number];

export interface BikeCounts {
  mechanical: number;
  electric: number;
  other: number;
}

/** Static description of a station (station_information). */
export interface StationInfo {
  /** Feed's station_id as a string (Vélib' sends integers of up to 11 digits). */
  stationId: string;
  /** The code people know: `short_name`, Vélib' `stationCode`; falls back to stationId. */
  code: string;
  name: string;
  lat: number;
  lon: number;
  /** Number of docks; null when the feed does not say. */
  capacity: number | null;
}

/** Live status of a station (station_status), one per station per document. */
export interface StationStatus {
  stationId: string;
  /** Vélib' repeats `stationCode` in station_status; null elsewhere. */
  code: string | null;
  bikes: BikeCounts;
  bikesDisabled: number;
  docksAvailable: number;
  docksDisabled: number;
  isInstalled: boolean;
  isRenting: boolean;
  isReturning: boolean;
  lastReportedSec: number | null;
}

export interface StatusDocument {
  /** Document timestamp, POSIX seconds (converted from ms / RFC 3339 / Vélib' lastUpdatedOther). */
  lastUpdatedSec: number;
  ttlSec: number | null;
  /** GBFS version the document claims, null when it claims none (Vélib'). */
  version: string | null;
  stations: StationStatus[];
}

export interface InformationDocument {
  lastUpdatedSec: number;
  ttlSec: number | null;
  version: string | null;
  stations: StationInfo[];
}

export interface SystemInformation {
  systemId: string | null;
  name: string | null;
  /** IANA time zone, e.g. Europe/Paris. */
  timezone: string;
  language: string | null;
}

export type FeedName =
  'gbfs' | 'station_status' | 'station_information' | 'system_information' | 'vehicle_types';

/**
 * Stable codes for everything we refuse from a feed. They become metric labels
 * (`dockwatch_rejected_total{reason}`) and log fields: never rename one.
 */
export const REJECT_REASONS = [
  'http_error', // non-2xx, timeout, connection refused
  'not_json', // body is not JSON
  'bad_shape', // JSON but not the document we expected (no data.stations array, …)
  'bad_timestamp', // missing / unparsable document timestamp
  'timestamp_backwards', // older than the last accepted document
  'timestamp_future', // too far ahead of our clock
  'duplicate_document', // same timestamp as the last accepted document
  'missing_station_id', // a station without id: station dropped
  'duplicate_station_id', // same id twice in one document: all copies dropped
  'bad_station', // a station whose fields have the wrong type: station dropped
  'negative_count', // a count below zero: station dropped
  'impossible_count', // counts that cannot be true (e.g. bikes by type > total, > capacity by far): station dropped
  'bad_coordinates', // lat/lon missing or out of range: station dropped (information)
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  feed: FeedName;
  /** Station concerned, null when the whole document is rejected. */
  stationId: string | null;
  reason: RejectReason;
  /** One human sentence: what was wrong, with the offending value. */
  message: string;
}

/** Parsing never throws on bad input: it returns the good part and says what it dropped. */
export type ParseResult<T> =
  { ok: true; doc: T; rejections: Rejection[] } | { ok: false; rejection: Rejection };
