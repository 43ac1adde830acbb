/** Words of the Atom feeds, in French (the default) and English; same wording as the web app. */
import type { StateChange, StationState } from '../detection/index.js';

export const ATOM_LANGUAGES = ['fr', 'en'] as const;
export type AtomLanguage = (typeof ATOM_LANGUAGES)[number];

const STATE_LABELS: Record<AtomLanguage, Record<StationState, string>> = {
  fr: {
    ok: 'Fonctionne',
    locked: 'Bloquée',
    rent_blocked: 'Retraits bloqués',
    return_blocked: 'Retours bloqués',
    bikes_stuck: 'Vélos coincés',
    docks_blocked: 'Bornes bloquées',
    learning: 'En apprentissage',
    closed: 'Fermée',
    inactive: 'Hors service',
    not_renting: 'Retraits fermés',
    not_returning: 'Retours fermés',
  },
  en: {
    ok: 'Working',
    locked: 'Locked',
    rent_blocked: 'Rentals blocked',
    return_blocked: 'Returns blocked',
    bikes_stuck: 'Bikes stuck',
    docks_blocked: 'Docks blocked',
    learning: 'Learning',
    closed: 'Closed',
    inactive: 'Out of service',
    not_renting: 'Rentals closed',
    not_returning: 'Returns closed',
  },
};

const REASONS: Record<AtomLanguage, Record<string, string>> = {
  fr: {
    missing_activity: 'aucune location ni retour depuis bien plus longtemps que d’habitude',
    activity_resumed: 'l’activité a repris',
    feed_declared: 'annoncé par l’opérateur dans son flux',
  },
  en: {
    missing_activity: 'no rental nor return for far longer than usual',
    activity_resumed: 'activity resumed',
    feed_declared: 'declared by the operator in its feed',
  },
};

export function stateLabel(lang: AtomLanguage, state: string): string {
  return (STATE_LABELS[lang] as Record<string, string>)[state] ?? state;
}

function formatNumber(lang: AtomLanguage, n: number, digits = 1): string {
  return new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: digits }).format(
    n,
  );
}

function formatDuration(lang: AtomLanguage, sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  if (lang === 'fr') return h > 0 ? `${h} h ${String(m).padStart(2, '0')}` : `${m} min`;
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

export function formatLocalTime(lang: AtomLanguage, timeSec: number, timezone: string): string {
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    timeZone: timezone,
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(timeSec * 1000));
}

export const FEED_TEXT = {
  fr: {
    systemTitle: (system: string) => `${system} : changements d’état des stations (dockwatch)`,
    stationTitle: (station: string) => `${station} : changements d’état (dockwatch)`,
    subtitle: 'Stations bloquées détectées par dockwatch à partir du flux GBFS.',
    entryTitle: (station: string, to: string) => `${station} : ${to}`,
  },
  en: {
    systemTitle: (system: string) => `${system}: station state changes (dockwatch)`,
    stationTitle: (station: string) => `${station}: state changes (dockwatch)`,
    subtitle: 'Locked stations detected by dockwatch from the GBFS feed.',
    entryTitle: (station: string, to: string) => `${station}: ${to}`,
  },
} as const;

/** One plain-text paragraph: what changed, when (local time), how sure, and why. */
export function entrySummary(lang: AtomLanguage, c: StateChange, station: string, timezone: string): string {
  const when = formatLocalTime(lang, c.timeSec, timezone);
  const from = stateLabel(lang, c.from);
  const to = stateLabel(lang, c.to);
  const pct = `${formatNumber(lang, c.confidence * 100, 0)}${lang === 'fr' ? '\u00a0%' : '%'}`;
  const reason = REASONS[lang][c.reason] ?? c.reason;
  const e = c.evidence;
  const parts: string[] = [];
  if (lang === 'fr') {
    parts.push(`${station} : ${from} → ${to}, le ${when} (${timezone}).`);
    parts.push(`Raison : ${reason}.`);
    if (e && c.reason === 'missing_activity')
      parts.push(
        `Attendu : ${formatNumber(lang, e.expected)} locations ou retours, observé : ${formatNumber(lang, e.observed)}, inactive depuis ${formatDuration(lang, e.inactiveSec)}.`,
      );
    parts.push(`Confiance : ${pct} (détecteur ${c.detector}).`);
  } else {
    parts.push(`${station}: ${from} → ${to}, on ${when} (${timezone}).`);
    parts.push(`Reason: ${reason}.`);
    if (e && c.reason === 'missing_activity')
      parts.push(
        `Expected ${formatNumber(lang, e.expected)} rentals or returns, observed ${formatNumber(lang, e.observed)}, inactive for ${formatDuration(lang, e.inactiveSec)}.`,
      );
    parts.push(`Confidence: ${pct} (detector ${c.detector}).`);
  }
  return parts.join(' ');
}
