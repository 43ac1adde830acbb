/** À propos: how detection works, in plain words; the data source and its licence. */
import { h } from '../dom.js';
import { t } from '../i18n.js';
import type { Page } from '../router.js';
import { heading } from '../ui.js';

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
      h('h2', {}, t('about.code.h')),
      h('p', {}, before ?? '', h('a', { href: '/docs' }, '/docs'), after ?? ''),
    ),
  );
};
