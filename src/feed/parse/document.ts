/**
 * What every GBFS document has in common: a JSON object body, a `data` object, a timestamp, a ttl, a
 * version. Whole-document faults are reported here as one `Rejection` (stationId null).
 */
import type { FeedName, RejectReason, Rejection } from '../model.js';
import { BAD, MIN_PLAUSIBLE_SEC, MISSING, isObject, readTimestampSec, show } from './values.js';

export type Json = Record<string, unknown>;
export type RootResult = { ok: true; root: Json } | { ok: false; rejection: Rejection };

const decoder = new TextDecoder();

export function rejection(
  feed: FeedName,
  stationId: string | null,
  reason: RejectReason,
  message: string,
): Rejection {
  return { feed, stationId, reason, message };
}

/**
 * The document's root object. `body` is the raw text (or bytes) from HTTP, or an object the caller
 * already parsed (the replay reads JSON Lines and parses once): we never stringify/parse twice.
 */
export function readRoot(body: unknown, feed: FeedName): RootResult {
  let value = body;
  const text = body instanceof Uint8Array ? decoder.decode(body) : body;
  if (typeof text === 'string') {
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return fail(
        feed,
        'not_json',
        `The ${feed} body is not JSON (${why}); it starts with ${show(text.slice(0, 40))}.`,
      );
    }
  }
  if (!isObject(value)) {
    return fail(feed, 'bad_shape', `The ${feed} document is not a JSON object but ${show(value)}.`);
  }
  return { ok: true, root: value };
}

/** The `data` object of a document, or a bad_shape rejection. */
export function readData(
  root: Json,
  feed: FeedName,
): { ok: true; data: Json } | { ok: false; rejection: Rejection } {
  const data = root.data;
  if (!isObject(data)) {
    return fail(feed, 'bad_shape', `The ${feed} document has no "data" object (got ${show(data)}).`);
  }
  return { ok: true, data };
}

/** The array under `data.<key>` (`stations`, `vehicle_types`), or a bad_shape rejection. */
export function readDataArray(
  root: Json,
  feed: FeedName,
  key: string,
): { ok: true; items: unknown[] } | { ok: false; rejection: Rejection } {
  const data = readData(root, feed);
  if (!data.ok) return data;
  const items = data.data[key];
  if (!Array.isArray(items)) {
    return fail(feed, 'bad_shape', `The ${feed} document has no "data.${key}" array (got ${show(items)}).`);
  }
  return { ok: true, items };
}

/**
 * The document timestamp in POSIX seconds, or a bad_timestamp rejection. Vélib' sends
 * `lastUpdatedOther` instead of GBFS `last_updated`.
 */
export function readDocumentTimeSec(
  root: Json,
  feed: FeedName,
): { ok: true; timeSec: number } | { ok: false; rejection: Rejection } {
  const raw = root.last_updated ?? root.lastUpdatedOther;
  const sec = readTimestampSec(raw);
  if (sec === MISSING) {
    return fail(feed, 'bad_timestamp', `The ${feed} document has no last_updated timestamp.`);
  }
  if (sec === BAD || sec < MIN_PLAUSIBLE_SEC) {
    return fail(
      feed,
      'bad_timestamp',
      `The ${feed} document timestamp ${show(raw)} is neither POSIX seconds, milliseconds nor an RFC 3339 date after 2000.`,
    );
  }
  return { ok: true, timeSec: sec };
}

/** `version` the document claims (GBFS 1.1+), else the caller's fallback (from gbfs.json), else null. */
export function readVersion(root: Json, fallback: string | undefined): string | null {
  const v = root.version;
  return typeof v === 'string' && v !== '' ? v : (fallback ?? null);
}

/**
 * A station id as a string. Vélib' sends integers of up to 11 digits, which are exact in a double.
 * Null when absent or unusable (empty string, fractional number, object…).
 */
export function readStationId(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return null;
}

function fail(feed: FeedName, reason: RejectReason, message: string): { ok: false; rejection: Rejection } {
  return { ok: false, rejection: rejection(feed, null, reason, message) };
}
