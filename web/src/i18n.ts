/** Message catalogues and locale-aware formatting in the system's time zone. */
import { en } from './i18n/en.js';
import { fr, type MessageKey } from './i18n/fr.js';

export type Lang = 'fr' | 'en';
const catalogues: Record<Lang, Record<MessageKey, string>> = { fr, en };
const STORAGE_KEY = 'dockwatch.lang';

let lang: Lang = 'fr';
let timezone = 'Europe/Paris';
const listeners = new Set<() => void>();

/** Stored choice, else the browser's first supported language, else the server's default. */
export function initLang(serverDefault: string, tz: string): void {
  timezone = tz;
  const stored = safeStorageGet(STORAGE_KEY);
  if (stored === 'fr' || stored === 'en') lang = stored;
  else {
    const preferred = (navigator.languages ?? [navigator.language]).map((l) => l.slice(0, 2).toLowerCase());
    lang =
      preferred.find((l): l is Lang => l === 'fr' || l === 'en') ?? (serverDefault === 'en' ? 'en' : 'fr');
  }
  document.documentElement.lang = lang;
  formatters.clear();
}

export function getLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  safeStorageSet(STORAGE_KEY, next);
  document.documentElement.lang = next;
  formatters.clear();
  for (const l of listeners) l();
}

export function onLangChange(l: () => void): void {
  listeners.add(l);
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text = catalogues[lang][key] ?? fr[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateFormat(kind: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  let f = formatters.get(kind) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: timezone, ...options });
    formatters.set(kind, f);
  }
  return f;
}

export function fmtNumber(n: number): string {
  let f = formatters.get('num') as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 1 });
    formatters.set('num', f);
  }
  return f.format(n);
}

export function fmtTime(sec: number): string {
  return dateFormat('time', { hour: '2-digit', minute: '2-digit' }).format(sec * 1000);
}

export function fmtDateTime(sec: number): string {
  return dateFormat('datetime', {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(sec * 1000);
}

export function fmtDay(sec: number): string {
  return dateFormat('day', { day: 'numeric', month: 'short' }).format(sec * 1000);
}

/** "3 j 4 h", "2 h 05 min", "12 min" — compact, locale-neutral units. */
export function fmtDuration(totalSec: number): string {
  const s = Math.max(0, Math.round(totalSec));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const day = lang === 'fr' ? 'j' : 'd';
  if (d > 0) return `${d} ${day} ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min`;
}

function safeStorageGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function safeStorageSet(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}
