/** Favoris: the stations kept in this browser, with their live state. */
import type { Station } from '../api.js';
import { onStations, stations } from '../data.js';
import { h } from '../dom.js';
import { favourites, toggleFavourite } from '../favourites.js';
import { fmtNumber, t } from '../i18n.js';
import { pushOptIn, syncPushStations } from '../push-optin.js';
import type { Page } from '../router.js';
import { onDefaultSystem } from '../systems.js';
import { badge, errorBox, heading, sinceText, stationHref } from '../ui.js';

function card(s: Station, nowSec: number, onRemove: () => void): HTMLElement {
  return h(
    'li',
    { class: 'card fav', 'data-code': s.code },
    h('h2', {}, h('a', { href: stationHref(s.code) }, s.name), ' ', h('span', { class: 'muted' }, s.code)),
    h('p', {}, badge(s.state), ' ', h('span', { class: 'muted' }, sinceText(s, nowSec))),
    h(
      'dl',
      { class: 'counts' },
      h('div', {}, h('dt', {}, t('col.mechanical')), h('dd', {}, fmtNumber(s.bikes.mechanical))),
      h('div', {}, h('dt', {}, t('col.electric')), h('dd', {}, fmtNumber(s.bikes.electric))),
      h('div', {}, h('dt', {}, t('col.docks')), h('dd', {}, fmtNumber(s.docks))),
    ),
    h('button', { type: 'button', class: 'link-button', onclick: onRemove }, t('fav.remove')),
  );
}

export const favouritesPage: Page = async ({ main }) => {
  main.append(heading(t('fav.title')));
  // Notifications are the default system's only: another system's codes would not be found.
  if (onDefaultSystem()) main.append(pushOptIn());
  const list = h('ul', { class: 'fav-list' });
  main.append(list);
  const draw = async (): Promise<void> => {
    const st = await stations();
    const codes = favourites();
    list.replaceChildren();
    if (codes.length === 0) {
      list.append(h('li', { class: 'muted' }, t('fav.empty')));
      return;
    }
    for (const code of codes) {
      const s = st.byCode.get(code);
      const remove = (): void => {
        toggleFavourite(code);
        syncPushStations();
        void draw();
      };
      list.append(
        s ? card(s, st.timeSec, remove) : h('li', { class: 'card muted' }, t('fav.gone', { code })),
      );
    }
  };
  try {
    await draw();
  } catch (err) {
    main.append(errorBox(err));
  }
  return onStations(() => void draw());
};
