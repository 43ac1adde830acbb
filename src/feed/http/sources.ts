import type { FeedUrls } from '../parse/index.js';

/** Where the watcher starts: a gbfs.json discovery document, or station_status itself. */
export type FeedSource = { kind: 'discovery'; url: string } | { kind: 'direct'; urls: FeedUrls };

const STATUS_NAMES = ['station_status.json', 'station_status'];

/**
 * Classify a feed URL. A URL whose last path segment is `station_status[.json]` is polled directly,
 * with its siblings `station_information[.json]` and `system_information[.json]` (feeds without a
 * gbfs.json exist, and some operators publish only the two station files); anything else is taken
 * as a gbfs.json discovery URL.
 */
export function feedSourceFromUrl(
  feedUrl: string,
  overrides: Partial<Pick<FeedUrls, 'stationInformation' | 'systemInformation' | 'vehicleTypes'>> = {},
): FeedSource {
  const url = new URL(feedUrl);
  const segments = url.pathname.split('/');
  const last = segments[segments.length - 1] ?? '';
  const statusName = STATUS_NAMES.find((n) => n === last);
  if (!statusName) return { kind: 'discovery', url: url.href };
  const sibling = (name: string): string => {
    const u = new URL(url.href);
    segments[segments.length - 1] = statusName.endsWith('.json') ? `${name}.json` : name;
    u.pathname = segments.join('/');
    return u.href;
  };
  return {
    kind: 'direct',
    urls: {
      version: null,
      stationStatus: url.href,
      stationInformation: overrides.stationInformation ?? sibling('station_information'),
      systemInformation: overrides.systemInformation ?? sibling('system_information'),
      vehicleTypes: overrides.vehicleTypes ?? null,
    },
  };
}
