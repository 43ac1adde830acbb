/**
 * Atom feeds (RFC 4287) of station state changes, for feed readers: one for the whole system, one
 * per station. Entry ids are tag: URIs (RFC 4151) made of what identifies a change for good —
 * system, station, document time, detector, new state — never of a database row id, so they stay
 * the same after a rebuild of the store from the same archive.
 */
import type { StateChange } from '../detection/index.js';
import { entrySummary, FEED_TEXT, stateLabel, type AtomLanguage } from './atom-text.js';
import { rfc3339 } from './time.js';

export { ATOM_LANGUAGES, type AtomLanguage } from './atom-text.js';

export const ATOM_CONTENT_TYPE = 'application/atom+xml; charset=utf-8';

export interface AtomChange {
  change: StateChange;
  /** The code people know (Vélib' stationCode) and the station's name, when known. */
  code: string;
  name: string | null;
}

export interface AtomFeedInput {
  lang: AtomLanguage;
  systemId: string;
  systemName: string;
  timezone: string;
  /** Absolute origin of the service (links to the web app's station pages). */
  origin: string;
  /**
   * System the web app's links select (`?system=`): set for a feed read at /feeds/systems/{id}/…,
   * absent for the default system's unprefixed feed (its links stay as they were).
   */
  webSystem?: string;
  /** Absolute URL of this feed (rel="self"). */
  selfUrl: string;
  /** RFC 4151 tagging entity, `authority,date`. */
  tagEntity: string;
  /** Absent: the whole system's feed. */
  station?: { stationId: string; code: string; name: string };
  /** `updated` of a feed without entries: the data time. */
  timeSec: number;
  /** Newest first. */
  changes: AtomChange[];
}

/**
 * Text safe for XML 1.0: the five special characters escaped, and characters XML cannot carry at
 * all (control characters, lone surrogates, U+FFFE/U+FFFF) removed — station names come from the
 * watched feed, which may hold anything.
 */
export function xmlEscape(text: string): string {
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|\p{Cs}/gu, '');
  return clean.replace(/[&<>"']/g, (ch) =>
    ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '"' ? '&quot;' : '&apos;',
  );
}

/** tag: URI segment: only characters RFC 4151 allows unescaped in the specific part. */
const tagPart = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function feedId(tagEntity: string, systemId: string, stationId?: string): string {
  const base = `tag:${tagEntity}:${tagPart(systemId)}`;
  return stationId === undefined
    ? `${base}/state-changes`
    : `${base}/stations/${tagPart(stationId)}/state-changes`;
}

export function entryId(tagEntity: string, c: StateChange): string {
  return `tag:${tagEntity}:${tagPart(c.system)}/stations/${tagPart(c.stationId)}/changes/${c.timeSec}/${tagPart(c.detector)}/${tagPart(c.to)}`;
}

/** The web app's page of a station (of `system`, when not the default one). */
export function stationPageUrl(origin: string, code: string, system?: string): string {
  return `${origin}/station/${encodeURIComponent(code)}${systemQuery(system)}`;
}

/** The web app's home page (of `system`, when not the default one). */
export function homePageUrl(origin: string, system?: string): string {
  return `${origin}/${systemQuery(system)}`;
}

const systemQuery = (system: string | undefined): string =>
  system === undefined ? '' : `?system=${encodeURIComponent(system)}`;

const stationLabel = (code: string, name: string | null): string => (name ? `${name} (${code})` : code);

function entryXml(input: AtomFeedInput, item: AtomChange): string {
  const { lang } = input;
  const c = item.change;
  const station = stationLabel(item.code, item.name);
  const to = stateLabel(lang, c.to);
  const time = rfc3339(c.timeSec);
  const link = stationPageUrl(input.origin, item.code, input.webSystem);
  return [
    '  <entry>',
    `    <id>${xmlEscape(entryId(input.tagEntity, c))}</id>`,
    `    <title type="text">${xmlEscape(FEED_TEXT[lang].entryTitle(station, to))}</title>`,
    `    <updated>${time}</updated>`,
    `    <published>${time}</published>`,
    `    <link rel="alternate" type="text/html" href="${xmlEscape(link)}"/>`,
    `    <category term="${xmlEscape(c.to)}" label="${xmlEscape(to)}"/>`,
    `    <summary type="text">${xmlEscape(entrySummary(lang, c, station, input.timezone))}</summary>`,
    '  </entry>',
  ].join('\n');
}

/** The whole feed as a string (entries are few: a page of the latest changes). */
export function buildAtomFeed(input: AtomFeedInput): string {
  const { lang, station } = input;
  const text = FEED_TEXT[lang];
  const title = station
    ? text.stationTitle(stationLabel(station.code, station.name))
    : text.systemTitle(input.systemName);
  const alternate = station
    ? stationPageUrl(input.origin, station.code, input.webSystem)
    : homePageUrl(input.origin, input.webSystem);
  const newest = input.changes[0]?.change.timeSec ?? input.timeSec;
  const head = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${lang}">`,
    `  <id>${xmlEscape(feedId(input.tagEntity, input.systemId, station?.stationId))}</id>`,
    `  <title type="text">${xmlEscape(title)}</title>`,
    `  <subtitle type="text">${xmlEscape(text.subtitle)}</subtitle>`,
    `  <updated>${rfc3339(newest)}</updated>`,
    `  <author><name>dockwatch</name><uri>${xmlEscape(`${input.origin}/`)}</uri></author>`,
    `  <generator>dockwatch</generator>`,
    `  <link rel="self" type="application/atom+xml" href="${xmlEscape(input.selfUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${xmlEscape(alternate)}"/>`,
  ];
  return [...head, ...input.changes.map((c) => entryXml(input, c)), '</feed>', ''].join('\n');
}
