/**
 * GBFS 3.x localised strings: `[{ "text": "…", "language": "fr" }, …]` instead of a plain string.
 */
import { isObject } from './values.js';

/** Fallback languages after the configured one: the product watches Paris first. */
const FALLBACK_LANGUAGES = ['fr', 'en'];

/** `fr-FR` matches `fr`; the comparison is case-insensitive (BCP 47 tags are). */
function languageMatches(tag: unknown, wanted: string): boolean {
  if (typeof tag !== 'string') return false;
  const t = tag.toLowerCase();
  const w = wanted.toLowerCase();
  return t === w || (t.startsWith(w) && t.charCodeAt(w.length) === 45); /* - */
}

function textIn(items: readonly unknown[], language: string): string | null {
  for (const item of items) {
    if (isObject(item) && typeof item.text === 'string' && languageMatches(item.language, language))
      return item.text;
  }
  return null;
}

/**
 * The text to show: a plain string as is; from a localised list the configured language, else French,
 * else English, else the first entry. Undefined when absent, null when present but malformed.
 */
export function pickLocalized(value: unknown, language?: string): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return null;
  if (language !== undefined) {
    const text = textIn(value, language);
    if (text !== null) return text;
  }
  for (const lang of FALLBACK_LANGUAGES) {
    const text = textIn(value, lang);
    if (text !== null) return text;
  }
  const first: unknown = value[0];
  return isObject(first) && typeof first.text === 'string' ? first.text : null;
}
