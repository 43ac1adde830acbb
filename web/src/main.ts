/**
 * Entry: no UI framework. The pages are plain DOM built by small functions: the site needs lists,
 * tables and a map, not a component runtime, and a framework would cost more bytes than all of
 * our own code. Leaflet (map page) and uPlot (charts) load on demand.
 */
import './styles.css';
import { getJson, publishedUrl, type AppConfig } from './api.js';
import { onLive, onStations, startLive, stations } from './data.js';
import { h } from './dom.js';
import { fmtDateTime, getLang, initLang, onLangChange, setLang, t } from './i18n.js';
import type { MessageKey } from './i18n/fr.js';
import { interceptLinks, render, route, type Page } from './router.js';
import { initSystems, systemSelector } from './systems.js';
import { heading } from './ui.js';

const NAV: { href: string; key: MessageKey; id: string }[] = [
  { href: '/', key: 'nav.home', id: 'home' },
  { href: '/carte', key: 'nav.map', id: 'map' },
  { href: '/stations', key: 'nav.stations', id: 'stations' },
  { href: '/favoris', key: 'nav.favourites', id: 'favourites' },
  { href: '/statistiques', key: 'nav.stats', id: 'stats' },
  { href: '/a-propos', key: 'nav.about', id: 'about' },
];

route('/', () => import('./pages/home.js').then((m) => m.homePage), 'home');
route('/carte', () => import('./pages/map.js').then((m) => m.mapPage), 'map');
route('/stations', () => import('./pages/stations.js').then((m) => m.stationsPage), 'stations');
route('/station/:code', () => import('./pages/station.js').then((m) => m.stationPage), 'stations');
route('/favoris', () => import('./pages/favourites.js').then((m) => m.favouritesPage), 'favourites');
route('/statistiques', () => import('./pages/stats.js').then((m) => m.statsPage), 'stats');
route('/a-propos', () => import('./pages/about.js').then((m) => m.aboutPage), 'about');

const notFound: Page = ({ main }) => {
  main.append(heading(t('error.notFound')), h('p', {}, h('a', { href: '/' }, t('nav.home'))));
};

let currentNav: string | null = null;

function renderChrome(config: AppConfig): void {
  const nav = document.getElementById('nav')!;
  nav.setAttribute('aria-label', t('navLabel'));
  nav.replaceChildren(
    h(
      'ul',
      {},
      NAV.map((n) =>
        h('li', {}, h('a', { href: n.href, 'aria-current': n.id === currentNav ? 'page' : null }, t(n.key))),
      ),
    ),
  );
  const lang = document.getElementById('lang')!;
  const selector = systemSelector();
  document.querySelector('.top .system')?.remove();
  if (selector) lang.before(selector);
  // The visible text is the accessible name (WCAG 2.5.3): the other language's own name.
  lang.textContent = t('lang.switch');
  lang.setAttribute('title', t('lang.switchLabel'));
  lang.setAttribute('lang', getLang() === 'fr' ? 'en' : 'fr');
  document.querySelector('.skip')!.textContent = t('skip');
  advertiseFeed(config);
  renderFooter(config);
}

/** <link rel="alternate">: feed readers find the shown system's Atom feed from any page. */
function advertiseFeed(config: AppConfig): void {
  let link = document.querySelector<HTMLLinkElement>('link[rel="alternate"][type="application/atom+xml"]');
  if (!link) link = document.head.appendChild(h('link', { rel: 'alternate', type: 'application/atom+xml' }));
  link.title = t('feeds.title', { system: config.name });
  link.href = publishedUrl('/feeds', `/state-changes.atom${getLang() === 'en' ? '?lang=en' : ''}`);
}

function renderFooter(config: AppConfig, timeSec?: number): void {
  const foot = document.getElementById('foot')!;
  foot.replaceChildren(
    h(
      'p',
      {},
      timeSec ? t('footer.data', { system: config.name, time: fmtDateTime(timeSec) }) : config.name,
      ' · ',
      h('a', { href: '/docs' }, t('footer.api')),
      ' · ',
      h('a', { href: '/a-propos' }, t('nav.about')),
    ),
  );
}

async function boot(): Promise<void> {
  await initSystems();
  const config = await getJson<AppConfig>('/config');
  initLang(config.language, config.timezone);
  interceptLinks();
  const go = (): Promise<void> =>
    render(
      config,
      (nav) => {
        currentNav = nav;
        renderChrome(config);
        document.title = `${nav ? t(NAV.find((n) => n.id === nav)!.key) + ' · ' : ''}dockwatch`;
      },
      notFound,
    ).then(() => {
      // Move focus to the new page's heading so screen readers announce the navigation.
      if (navigated) document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
    });
  let navigated = false;
  window.addEventListener('popstate', () => {
    navigated = true;
    window.scrollTo(0, 0);
    void go();
  });
  document.getElementById('lang')!.addEventListener('click', () => setLang(getLang() === 'fr' ? 'en' : 'fr'));
  onLangChange(() => void go());
  renderChrome(config);
  const status = document.getElementById('status')!;
  onLive((connected) => {
    status.textContent = connected ? '' : t('live.lost');
    status.classList.toggle('visible', !connected);
  });
  onStations(() => void stations().then((s) => renderFooter(config, s.timeSec)));
  await go();
  void stations().then((s) => renderFooter(config, s.timeSec));
  startLive();
}

void boot().catch((err: unknown) => {
  document.getElementById('main')!.replaceChildren(h('p', { class: 'error', role: 'alert' }, String(err)));
});
