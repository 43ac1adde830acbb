/**
 * system_information: we need its time zone (activity slots are local time) and a display name.
 */
import type { ParseResult, SystemInformation } from '../model.js';
import { readData, readRoot, rejection } from './document.js';
import { pickLocalized } from './localized.js';
import { show } from './values.js';

const FEED = 'system_information';

/** Whether the runtime knows this IANA zone (the time zone database ships with Node's ICU). */
function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function parseSystemInformation(
  body: unknown,
  opts: { language?: string } = {},
): ParseResult<SystemInformation> {
  const root = readRoot(body, FEED);
  if (!root.ok) return root;
  const found = readData(root.root, FEED);
  if (!found.ok) return found;
  const data = found.data;

  // Required by every GBFS version, but Vélib' publishes none: the caller then falls back on its
  // configured zone, so the message must say that the field is missing, not that the feed is broken.
  const timezone = data.timezone;
  if (typeof timezone !== 'string' || timezone === '') {
    return {
      ok: false,
      rejection: rejection(
        FEED,
        null,
        'bad_shape',
        `The system_information document has no timezone (got ${show(timezone)}), so local time needs a configured one.`,
      ),
    };
  }
  if (!isKnownTimeZone(timezone)) {
    return {
      ok: false,
      rejection: rejection(
        FEED,
        null,
        'bad_shape',
        `The system_information document names an unknown time zone ${show(timezone)}.`,
      ),
    };
  }

  // GBFS 1.x/2.x: one `language`; 3.x: a `languages` list.
  const languages = data.languages;
  const language =
    typeof data.language === 'string'
      ? data.language
      : Array.isArray(languages) && typeof languages[0] === 'string'
        ? languages[0]
        : null;
  const systemId = data.system_id;
  const doc: SystemInformation = {
    systemId: typeof systemId === 'string' && systemId !== '' ? systemId : null,
    name: pickLocalized(data.name, opts.language ?? language ?? undefined) ?? null,
    timezone,
    language,
  };
  return { ok: true, doc, rejections: [] };
}
