/**
 * À propos: how detection works, in plain words; the data source and its licence; the chosen
 * system's feeds and exports.
 */
import { apiUrl, publishedUrl } from '../api.js';
import { h } from '../dom.js';
import { getLang, t } from '../i18n.js';
import type { Page } from '../router.js';
import { heading } from '../ui.js';

const EXPORT_DAYS = 30; // within the server's default longest export (31 days)

/** Links to what the server publishes for the system shown (its own URLs when several). */
function feedLinks(system: string): HTMLElement[] {
  const untilSec = Math.floor(Date.now() / 1000);
  const range = `since=${untilSec - EXPORT_DAYS * 86_400}&until=${untilSec}`;
  const lang = getLang() === 'en' ? '?lang=en' : '';
  return [
    h('h2', {}, t('about.feeds.h')),
    h('p', {}, t('about.feeds', { system })),
    h(
      'ul',
      {},
      h(
        'li',
        {},
        h('a', { href: publishedUrl('/feeds', `/state-changes.atom${lang}`) }, t('about.feeds.atom')),
      ),
      h('li', {}, h('a', { href: publishedUrl('/gbfs', '/gbfs.json') }, t('about.feeds.gbfs'))),
      h(
        'li',
        {},
        h('a', { href: apiUrl(`/exports/state-changes.csv?${range}`), download: true }, t('about.feeds.csv')),
      ),
    ),
  ];
}

export const aboutPage: Page = ({ main, config }) => {
  const [before, after] = t('about.code', { link: '\u0000' }).split('\u0000');
  main.append(
    heading(t('about.title')),
    h(
      'article',
      { class: 'prose' },
      h('h2', {}, t('about.what.h')),
      h('p', {}, t('about.what')),
      h('h2', {}, t('about.how.h')),
      h(
        'ol',
        {},
        h('li', {}, t('about.how1')),
        h('li', {}, t('about.how2')),
        h('li', {}, t('about.how3')),
        h('li', {}, t('about.how4')),
      ),
      h('h2', {}, t('about.data.h')),
      h('p', {}, t('about.data', { system: config.name })),
      ...feedLinks(config.name),
      h('h2', {}, t('about.code.h')),
      h('p', {}, before ?? '', h('a', { href: '/docs' }, '/docs'), after ?? ''),
    ),
  );
};
