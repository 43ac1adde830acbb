import type { FeedName, Rejection } from '../model.js';
import { rejection } from './document.js';

/**
 * Removes every station whose id appeared more than once in the document, with one
 * duplicate_station_id rejection per id: we cannot tell which copy is true, so none is kept.
 * Runs only when a duplicate was seen.
 */
export function dropDuplicates<T extends { stationId: string }>(
  feed: FeedName,
  stations: T[],
  copies: ReadonlyMap<string, number>,
  rejections: Rejection[],
): T[] {
  for (const [id, n] of copies) {
    if (n > 1) {
      rejections.push(
        rejection(
          feed,
          id,
          'duplicate_station_id',
          `Station id ${JSON.stringify(id)} appears ${n} times in the document.`,
        ),
      );
    }
  }
  return stations.filter((s) => (copies.get(s.stationId) ?? 0) < 2);
}
