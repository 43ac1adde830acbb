/**
 * The system selector: which bike-share system the app shows when the server has several. The
 * choice is in the address (`?system=<id>`, kept by every in-app navigation, so a copied link
 * opens the same system) and remembered in localStorage for the next visit. Shown only when the
 * server has more than one system.
 */
import { getJson, useSystem, type SystemItem } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { keepParam } from './router.js';

const STORAGE_KEY = 'dockwatch.system';
const PARAM = 'system';

let systems: SystemItem[] = [];
let chosen: string | null = null;

function remembered(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the address alone carries the choice
  }
}

function remember(id: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, id);
  } catch {
    // storage disabled
  }
}

/**
 * Reads the server's systems and picks the one to show (address, else remembered, else the
 * server's default); per-system API calls go to it from now on. Before anything else loads.
 */
export async function initSystems(): Promise<void> {
  try {
    systems = (await getJson<{ systems: SystemItem[] }>('/systems', { global: true })).systems;
  } catch {
    systems = []; // an older server, or the list failed: the default system, no selector
  }
  const url = new URL(location.href);
  const known = (id: string | null): id is string => id !== null && systems.some((s) => s.id === id);
  const fromUrl = url.searchParams.get(PARAM);
  const wanted = known(fromUrl) ? fromUrl : known(remembered()) ? remembered() : null;
  chosen = wanted;
  useSystem(chosen);
  keepParam(PARAM, chosen);
  if (chosen !== null) remember(chosen);
  if (fromUrl !== chosen) {
    if (chosen === null) url.searchParams.delete(PARAM);
    else url.searchParams.set(PARAM, chosen);
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
}

/**
 * Whether the server's default system is shown: notifications (Web Push) exist for that one
 * only (docs/api.md, *Many systems*).
 */
export function onDefaultSystem(): boolean {
  return chosen === null || systems.some((s) => s.id === chosen && s.watched);
}

/** The header's `<select>` (null with one system); re-rendered with the chrome (language changes). */
export function systemSelector(): HTMLElement | null {
  if (systems.length < 2) return null;
  const current = chosen ?? systems.find((s) => s.watched)?.id ?? systems[0]!.id;
  const select = h(
    'select',
    { id: 'system', class: 'system-select' },
    systems.map((s) => h('option', { value: s.id, selected: s.id === current }, s.name || s.id)),
  );
  select.addEventListener('change', () => switchTo(select.value));
  return h('label', { class: 'system' }, h('span', { class: 'sr-only' }, t('system.label')), select);
}

/** A fresh start on the other system: every cache, the live stream and the map belong to one system. */
function switchTo(id: string): void {
  remember(id);
  const url = new URL(location.href);
  // A station page of one system means nothing in another: go to the same section's top.
  const path = url.pathname.startsWith('/station/') ? '/stations' : url.pathname;
  const next = new URLSearchParams({ [PARAM]: id });
  location.assign(`${path}?${next.toString()}`);
}
