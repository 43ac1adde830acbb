/** Small shared pieces of UI. */
import { categoryOf, type Station } from './api.js';
import { h } from './dom.js';
import { fmtDateTime, fmtDuration, t } from './i18n.js';
import type { MessageKey } from './i18n/fr.js';

export function stateLabel(state: string): string {
  return t(`state.${state}` as MessageKey);
}

export function badge(state: string): HTMLElement {
  return h('span', { class: `badge cat-${categoryOf(state)}` }, stateLabel(state));
}

export function sinceText(s: Station, nowSec: number): string {
  if (s.since === null) return '';
  return t('station.since', { time: fmtDateTime(s.since), duration: fmtDuration(nowSec - s.since) });
}

export function heading(text: string): HTMLHeadingElement {
  return h('h1', { tabindex: -1 }, text);
}

export function loadingBox(): HTMLElement {
  return h('p', { class: 'loading' }, t('loading'));
}

export function errorBox(err: unknown): HTMLElement {
  const detail = err instanceof Error ? err.message : String(err);
  return h('p', { class: 'error', role: 'alert' }, t('error.load', { detail }));
}

export function stationHref(code: string): string {
  return `/station/${encodeURIComponent(code)}`;
}
