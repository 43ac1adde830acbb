/** Station page: counts, state and since when, last activity, today vs usual, history, favourite. */
import { getJson, HttpError, publishedUrl, type StationDetail } from '../api.js';
import { activityFigure } from '../chart.js';
import { onStations } from '../data.js';
import { h } from '../dom.js';
import { isFavourite, toggleFavourite } from '../favourites.js';
import { fmtDateTime, fmtNumber, fmtTime, getLang, t } from '../i18n.js';
import type { MessageKey } from '../i18n/fr.js';
import type { Page } from '../router.js';
import { badge, errorBox, heading, sinceText } from '../ui.js';

export const stationPage: Page = async ({ main, params }) => {
  const code = params['code'] ?? '';
  let detail: StationDetail;
  try {
    detail = await getJson<StationDetail>(`/stations/${encodeURIComponent(code)}`);
  } catch (err) {
    if (err instanceof HttpError && (err.status === 404 || err.status === 400)) {
      main.append(heading(t('error.notFound')), h('p', {}, t('station.notFound', { code })));
    } else main.append(heading(code), errorBox(err));
    return;
  }
  const s = detail.station;
  document.title = `${s.name} · dockwatch`;
  const favButton = h('button', { type: 'button', class: 'fav-button', 'aria-pressed': 'false' });
  const drawFav = (): void => {
    const fav = isFavourite(s.code);
    favButton.setAttribute('aria-pressed', String(fav));
    favButton.textContent = `${fav ? '★' : '☆'} ${t(fav ? 'station.favRemove' : 'station.favAdd')}`;
  };
  favButton.addEventListener('click', () => {
    toggleFavourite(s.code);
    drawFav();
  });
  drawFav();

  const stateLine = h('p', { class: 'state-line' });
  const counts = h('dl', { class: 'counts big-counts' });
  const lastActivity = h('p', { class: 'last-activity' });
  const drawLive = (): void => {
    stateLine.replaceChildren(badge(s.state), ' ', h('span', {}, sinceText(s, detail.timeSec)));
    const item = (label: MessageKey, value: string): HTMLElement =>
      h('div', {}, h('dt', {}, t(label)), h('dd', {}, value));
    counts.replaceChildren(
      item('station.mechanical', fmtNumber(s.bikes.mechanical)),
      item('station.electric', fmtNumber(s.bikes.electric)),
      item('station.docks', fmtNumber(s.docks)),
      item('station.blocked', fmtNumber(s.blockedDocks)),
      item('station.capacity', s.capacity === null ? '–' : fmtNumber(s.capacity)),
    );
    lastActivity.textContent = `${t('station.lastActivity')} : ${
      s.lastActivity === null
        ? t('station.noActivity')
        : t('station.lastActivityValue', { time: fmtTime(s.lastActivity) })
    }`;
  };
  drawLive();

  const history = h('section', { class: 'card' }, h('h2', {}, t('station.history')));
  if (detail.history.length === 0) history.append(h('p', { class: 'muted' }, t('station.noHistory')));
  else
    history.append(
      h(
        'div',
        { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('station.history') },
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('hist.time')),
              h('th', { scope: 'col' }, t('hist.change')),
              h('th', { scope: 'col' }, t('hist.reason')),
            ),
          ),
          h(
            'tbody',
            {},
            detail.history.map((c) =>
              h(
                'tr',
                {},
                h('td', {}, fmtDateTime(c.timeSec)),
                h('td', {}, badge(c.from), ' → ', badge(c.to)),
                h('td', {}, c.reason),
              ),
            ),
          ),
        ),
      ),
    );

  const { figure, draw } = activityFigure(detail.activity, t('station.chart'));
  main.append(
    heading(s.name),
    h(
      'p',
      { class: 'muted' },
      t('station.code', { code: s.code }),
      ' · ',
      t('station.declared'),
      ' : ',
      t(`declared.${s.declared}` as MessageKey),
      ' · ',
      h('a', { href: `/carte?station=${encodeURIComponent(s.code)}` }, t('station.onMap')),
      ' · ',
      h(
        'a',
        {
          href: publishedUrl(
            '/feeds',
            `/stations/${encodeURIComponent(s.code)}.atom${getLang() === 'en' ? '?lang=en' : ''}`,
          ),
          type: 'application/atom+xml',
        },
        t('station.atom'),
      ),
    ),
    stateLine,
    favButton,
    h('section', { class: 'card' }, counts, lastActivity),
    figure,
    history,
  );
  const off = onStations((changed) => {
    const c = changed.find((x) => x.code === s.code);
    if (!c) return;
    Object.assign(s, c);
    drawLive();
  });
  const cleanupChart = await draw();
  return () => {
    off();
    cleanupChart();
  };
};
