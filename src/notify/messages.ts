/**
 * What people read: the webhook body (JSON, for programs) and the push notification text (for
 * riders, in French or English, times in the system's time zone).
 */
import type { StationInfo } from '../feed/model.js';
import type { StoredStateChange } from '../storage/index.js';
import type { PushLang } from './types.js';

export const WEBHOOK_EVENT = 'station.state_changed';

/** The announcement's identity (system, station, change offset, to): also the webhook `id`. */
export function announcementKey(c: {
  system: string;
  stationId: string;
  offset: number;
  to: string;
}): string {
  return `${c.system}:${c.stationId}:${c.offset}:${c.to}`;
}

export function stationUrl(publicUrl: string, code: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/station/${encodeURIComponent(code)}`;
}

export interface WebhookPayload {
  type: typeof WEBHOOK_EVENT;
  id: string;
  system: string;
  station: { id: string; code: string; name: string | null; lat: number | null; lon: number | null };
  from: string;
  to: string;
  changedAtSec: number;
  /** Document time at which the new state had held for the minimum time. */
  confirmedAtSec: number;
  confidence: number;
  reason: string;
  detector: string;
  evidence: Record<string, number> | null;
  url: string;
}

export function webhookPayload(
  change: StoredStateChange,
  from: string,
  confirmedAtSec: number,
  info: StationInfo | undefined,
  publicUrl: string,
): string {
  const code = info?.code ?? change.stationId;
  const body: WebhookPayload = {
    type: WEBHOOK_EVENT,
    id: announcementKey(change),
    system: change.system,
    station: {
      id: change.stationId,
      code,
      name: info?.name ?? null,
      lat: info?.lat ?? null,
      lon: info?.lon ?? null,
    },
    from,
    to: change.to,
    changedAtSec: change.timeSec,
    confirmedAtSec,
    confidence: change.confidence,
    reason: change.reason,
    detector: change.detector,
    evidence: change.evidence ? { ...change.evidence } : null,
    url: stationUrl(publicUrl, code),
  };
  return JSON.stringify(body);
}

const STATE_TEXT: Record<PushLang, Record<string, string>> = {
  fr: {
    ok: 'fonctionne de nouveau',
    locked: 'semble bloquée : ni retrait ni retour',
    rent_blocked: 'semble bloquée pour les retraits',
    return_blocked: 'semble bloquée pour les retours',
    bikes_stuck: 'a des vélos qui ne peuvent pas être retirés',
    docks_blocked: 'a des bornes libres qui n’acceptent pas de vélo',
    closed: 'est fermée',
    inactive: 'est hors service',
    not_renting: 'n’accepte plus les retraits',
    not_returning: 'n’accepte plus les retours',
  },
  en: {
    ok: 'works again',
    locked: 'looks locked: no rentals, no returns',
    rent_blocked: 'looks blocked for rentals',
    return_blocked: 'looks blocked for returns',
    bikes_stuck: 'has bikes that cannot be taken',
    docks_blocked: 'has free docks that take no bike',
    closed: 'is closed',
    inactive: 'is out of service',
    not_renting: 'no longer allows rentals',
    not_returning: 'no longer allows returns',
  },
};

const SINCE: Record<PushLang, string> = { fr: 'depuis', en: 'since' };

export interface PushMessage {
  title: string;
  body: string;
  /** Same tag = the newer notification of a station replaces the older one on the device. */
  tag: string;
  url: string;
  lang: PushLang;
  station: string;
  state: string;
}

/** The rider's text, from the announcement's webhook body (which names the station). */
export function pushMessage(opts: {
  lang: PushLang;
  payload: WebhookPayload;
  timeZone: string;
}): PushMessage {
  const { lang, payload } = opts;
  const code = payload.station.code;
  const name = payload.station.name ?? code;
  const time = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    timeZone: opts.timeZone,
    hour: '2-digit',
    minute: '2-digit',
  }).format(payload.changedAtSec * 1000);
  const what = STATE_TEXT[lang][payload.to] ?? payload.to;
  return {
    title: `${name} (${code})`,
    body: `${lang === 'fr' ? 'La station' : 'The station'} ${what} ${SINCE[lang]} ${time}.`,
    tag: `dockwatch-${code}`,
    url: payload.url,
    lang,
    station: code,
    state: payload.to,
  };
}
