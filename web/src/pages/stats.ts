/** Statistiques: locked stations over time, longest locks, feed health. */
import { getJson, type StatsResponse } from '../api.js';
import { lineChart } from '../chart.js';
import { h } from '../dom.js';
import { fmtDateTime, fmtDay, fmtDuration, fmtNumber, t } from '../i18n.js';
import type { Page } from '../router.js';
import { errorBox, heading, stationHref } from '../ui.js';

export const statsPage: Page = async ({ main }) => {
  main.append(heading(t('stats.title')));
  let stats: StatsResponse;
  try {
    stats = await getJson<StatsResponse>('/stats?days=7');
  } catch (err) {
    main.append(errorBox(err));
    return;
  }
  const box = h('div', { class: 'chart' });
  main.append(
    h(
      'figure',
      { class: 'card chart-card' },
      h('h2', {}, t('stats.series')),
      box,
      h('figcaption', {}, t('stats.seriesCaption')),
    ),
  );

  const locks = h('section', { class: 'card' }, h('h2', {}, t('stats.longest')));
  if (stats.longestLocks.length === 0) locks.append(h('p', { class: 'muted' }, t('stats.noLocks')));
  else
    locks.append(
      h(
        'div',
        { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('stats.longest') },
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('col.name')),
              h('th', { scope: 'col' }, t('stats.from')),
              h('th', { scope: 'col' }, t('stats.to')),
              h('th', { scope: 'col', class: 'num' }, t('stats.duration')),
            ),
          ),
          h(
            'tbody',
            {},
            stats.longestLocks.map((l) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: stationHref(l.code) }, l.name ?? l.code)),
                h('td', {}, fmtDateTime(l.fromSec)),
                h('td', {}, l.toSec === null ? t('stats.ongoing') : fmtDateTime(l.toSec)),
                h('td', { class: 'num' }, fmtDuration(l.durationSec)),
              ),
            ),
          ),
        ),
      ),
    );

  const hl = stats.health;
  const rejected = hl ? Object.entries(hl.rejected).filter(([, n]) => n > 0) : [];
  const row = (label: string, value: string): HTMLElement =>
    h('div', {}, h('dt', {}, label), h('dd', {}, value));
  const health = h(
    'section',
    { class: 'card' },
    h('h2', {}, t('stats.feed')),
    h(
      'dl',
      { class: 'kv' },
      row(t('stats.lastDocument'), hl?.lastDocumentSec ? fmtDateTime(hl.lastDocumentSec) : '–'),
      row(t('stats.stale'), hl?.stale ? t('yes') : t('no')),
      row(t('stats.failures'), fmtNumber(hl?.consecutiveFailures ?? 0)),
      row(
        t('stats.rejected'),
        rejected.length ? rejected.map(([k, n]) => `${k} : ${fmtNumber(n)}`).join(', ') : t('stats.none'),
      ),
    ),
  );
  main.append(locks, health);

  return lineChart(
    box,
    stats.series.map((p) => p.timeSec),
    [
      {
        label: t('stats.lockedSeries'),
        values: stats.series.map((p) => p.locked),
        colour: '#d7191c',
        fill: 'rgba(215,25,28,0.1)',
      },
      {
        label: t('stats.partialSeries'),
        values: stats.series.map((p) => p.partial),
        colour: '#f57c00',
        dash: [6, 4],
      },
    ],
    {
      xLabel: t('hist.time'),
      yLabel: t('stats.lockedSeries'),
      xFormat: (v) => fmtDateTime(v),
      xAxisFormat: (v) => fmtDay(v),
      ariaLabel: `${t('stats.series')}. ${t('stats.seriesCaption')}`,
    },
  );
};
