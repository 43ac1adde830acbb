/**
 * gbfs.json (auto-discovery): the URLs of the feeds we poll. Read once at start-up; a missing
 * mandatory feed is named in the rejection so the operator knows what to fix.
 */
import type { ParseResult } from '../model.js';
import type { Json } from './document.js';
import { readData, readRoot, rejection } from './document.js';
import { isObject, show } from './values.js';

export interface FeedUrls {
  /** GBFS version gbfs.json claims; null when it claims none (Vélib'). */
  version: string | null;
  stationStatus: string;
  stationInformation: string;
  systemInformation: string | null;
  vehicleTypes: string | null;
}

const FEED = 'gbfs';
const FALLBACK_LANGUAGES = ['fr', 'en'];

/**
 * The feed list: GBFS 3.x has `data.feeds`; 1.x/2.x one list per language, `data.<lang>.feeds`, of
 * which we take the configured language, else French, else English, else the first.
 */
function pickFeeds(data: Json, language: string | undefined): { feeds: unknown[]; where: string } | null {
  if (Array.isArray(data.feeds)) return { feeds: data.feeds, where: 'data.feeds' };
  const candidates = language === undefined ? FALLBACK_LANGUAGES : [language, ...FALLBACK_LANGUAGES];
  for (const lang of [...candidates, ...Object.keys(data)]) {
    const entry = data[lang];
    if (isObject(entry) && Array.isArray(entry.feeds))
      return { feeds: entry.feeds, where: `data.${lang}.feeds` };
  }
  return null;
}

export function parseDiscovery(body: unknown, opts: { language?: string } = {}): ParseResult<FeedUrls> {
  const root = readRoot(body, FEED);
  if (!root.ok) return root;
  const found = readData(root.root, FEED);
  if (!found.ok) return found;
  const picked = pickFeeds(found.data, opts.language);
  if (picked === null) {
    return {
      ok: false,
      rejection: rejection(
        FEED,
        null,
        'bad_shape',
        `The gbfs.json document has neither data.feeds nor data.<language>.feeds: ${show(found.data)}.`,
      ),
    };
  }

  const urls = new Map<string, string>();
  for (const feed of picked.feeds) {
    // First entry wins; entries without a usable name/url are ignored (we only need four feeds).
    if (isObject(feed) && typeof feed.name === 'string' && typeof feed.url === 'string' && feed.url !== '') {
      if (!urls.has(feed.name)) urls.set(feed.name, feed.url);
    }
  }
  const stationStatus = urls.get('station_status');
  const stationInformation = urls.get('station_information');
  if (stationStatus === undefined || stationInformation === undefined) {
    const missing = [
      stationStatus === undefined ? 'station_status' : null,
      stationInformation === undefined ? 'station_information' : null,
    ]
      .filter((x) => x !== null)
      .join(' and ');
    const listed = [...urls.keys()].join(', ') || 'none';
    return {
      ok: false,
      rejection: rejection(
        FEED,
        null,
        'bad_shape',
        `The gbfs.json document lists no ${missing} feed in ${picked.where} (feeds listed: ${listed}).`,
      ),
    };
  }
  const version = root.root.version;
  const doc: FeedUrls = {
    version: typeof version === 'string' && version !== '' ? version : null,
    stationStatus,
    stationInformation,
    systemInformation: urls.get('system_information') ?? null,
    vehicleTypes: urls.get('vehicle_types') ?? null,
  };
  return { ok: true, doc, rejections: [] };
}
