/** Accueil: trips today, locked stations now, today's activity vs usual, latest state changes. */
import { getJson, type ActivityResponse, type StateChangeOut } from '../api.js';
import { activityFigure } from '../chart.js';
import { onStateChange } from '../data.js';
import { h } from '../dom.js';
import { fmtDateTime, fmtNumber, t } from '../i18n.js';
import type { Page } from '../router.js';
import { badge, errorBox, heading, stationHref } from '../ui.js';

function changeItem(c: StateChangeOut): HTMLElement {
  return h(
    'li',
    {},
    h('time', { datetime: new Date(c.timeSec * 1000).toISOString() }, fmtDateTime(c.timeSec)),
    ' ',
    h('a', { href: stationHref(c.code) }, c.name ?? c.code),
    ' ',
    badge(c.from),
    ' → ',
    badge(c.to),
  );
}

export const homePage: Page = async ({ main }) => {
  main.append(heading(t('home.title')), h('p', { class: 'lead' }, t('home.lead')));
  const cards = h('section', { class: 'cards', 'aria-label': t('nav.home') });
  const chartSlot = h('div', { class: 'chart-slot' });
  const changesList = h('ul', { class: 'changes' });
  const changesBox = h('section', { class: 'card' }, h('h2', {}, t('home.changes')), changesList);
  main.append(cards, chartSlot, changesBox);
  let cleanupChart: (() => void) | undefined;
  try {
    const [act, changes] = await Promise.all([
      getJson<ActivityResponse>('/activity'),
      getJson<{ changes: StateChangeOut[] }>('/state-changes?limit=10'),
    ]);
    cards.append(
      h(
        'div',
        { class: 'card stat' },
        h('h2', {}, t('home.trips')),
        h('p', { class: 'big' }, fmtNumber(act.totals.rentedToday)),
        act.activity.usual.days > 0
          ? h('p', { class: 'muted' }, t('home.tripsUsual', { n: fmtNumber(act.totals.usualRentedByNow) }))
          : null,
      ),
      h(
        'div',
        { class: 'card stat stat-locked' },
        h('h2', {}, t('home.locked')),
        h('p', { class: 'big', 'data-testid': 'locked-count' }, fmtNumber(act.states.locked)),
        h(
          'p',
          { class: 'muted' },
          t('home.partial', { n: fmtNumber(act.states.partial) }),
          ' · ',
          h('a', { href: '/stations?locked=1' }, t('home.lockedLink')),
        ),
      ),
      h(
        'div',
        { class: 'card stat' },
        h('h2', {}, t('home.stations')),
        h('p', { class: 'big' }, fmtNumber(act.stations)),
      ),
    );
    if (changes.changes.length === 0) changesList.append(h('li', { class: 'muted' }, t('home.noChanges')));
    else changesList.append(...changes.changes.map(changeItem));
    const { figure, draw } = activityFigure(act.activity, t('home.chart'));
    chartSlot.append(figure);
    cleanupChart = await draw();
  } catch (err) {
    main.append(errorBox(err));
  }
  const off = onStateChange((c) => {
    changesList.querySelector('.muted')?.remove();
    changesList.prepend(changeItem(c));
    while (changesList.children.length > 10) changesList.lastElementChild?.remove();
  });
  return () => {
    off();
    cleanupChart?.();
  };
};
