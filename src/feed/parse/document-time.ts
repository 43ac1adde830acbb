import type { FeedName, Rejection } from '../model.js';
import { rejection } from './document.js';

export interface DocumentTimeOptions {
  /** How far ahead of our clock a document may be (clock skew between us and the operator). */
  maxFutureSec?: number;
  /** Feed named in the rejection; station_status by default. */
  feed?: FeedName;
}

/** Five minutes: a feed's clock or its CDN cache may be off a little; more is a broken clock. */
const DEFAULT_MAX_FUTURE_SEC = 300;

/**
 * Whether a document with timestamp `docSec` may follow the last accepted one (`previousSec`, null
 * for the first). Pipeline time is document time, so a document from the future or the past would
 * corrupt every duration downstream; a repeat carries nothing new (feeds with a long ttl, CDN caches).
 */
export function checkDocumentTime(
  previousSec: number | null,
  docSec: number,
  nowSec: number,
  opts: DocumentTimeOptions = {},
): Rejection | null {
  const feed = opts.feed ?? 'station_status';
  const maxFutureSec = opts.maxFutureSec ?? DEFAULT_MAX_FUTURE_SEC;
  if (docSec > nowSec + maxFutureSec) {
    return rejection(
      feed,
      null,
      'timestamp_future',
      `The document timestamp ${iso(docSec)} is ${docSec - nowSec} s ahead of our clock (${iso(nowSec)}); at most ${maxFutureSec} s is tolerated.`,
    );
  }
  if (previousSec === null) return null;
  if (docSec === previousSec) {
    return rejection(
      feed,
      null,
      'duplicate_document',
      `The document has the same timestamp as the last accepted one (${iso(docSec)}).`,
    );
  }
  if (docSec < previousSec) {
    return rejection(
      feed,
      null,
      'timestamp_backwards',
      `The document timestamp ${iso(docSec)} is ${previousSec - docSec} s older than the last accepted one (${iso(previousSec)}).`,
    );
  }
  return null;
}

function iso(sec: number): string {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? String(sec) : `${d.toISOString().slice(0, 19)}Z`;
}
