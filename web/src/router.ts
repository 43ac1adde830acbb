/** History-API router over path patterns; the server answers every page path with index.html. */
import type { AppConfig } from './api.js';

export interface PageContext {
  config: AppConfig;
  main: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
}
/** Renders into ctx.main; may return a cleanup run when leaving the page. */
export type Page = (ctx: PageContext) => Promise<(() => void) | void> | (() => void) | void;

interface Route {
  pattern: RegExp;
  keys: string[];
  load: () => Promise<Page>;
  nav: string | null;
}

const routes: Route[] = [];

export function route(path: string, load: () => Promise<Page>, nav: string | null = null): void {
  const keys: string[] = [];
  const pattern = new RegExp(
    '^' +
      path.replace(/:(\w+)/g, (_m, k: string) => {
        keys.push(k);
        return '([^/]+)';
      }) +
      '/?$',
  );
  routes.push({ pattern, keys, load, nav });
}

let cleanup: (() => void) | void = undefined;
let renderSeq = 0;

export async function render(
  config: AppConfig,
  onNav: (nav: string | null) => void,
  notFound: Page,
): Promise<void> {
  const seq = ++renderSeq;
  const main = document.getElementById('main')!;
  if (cleanup) cleanup();
  cleanup = undefined;
  const url = new URL(location.href);
  let page: Page = notFound;
  let params: Record<string, string> = {};
  let nav: string | null = null;
  for (const r of routes) {
    const m = r.pattern.exec(url.pathname);
    if (!m) continue;
    params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1] ?? '')]));
    page = await r.load();
    nav = r.nav;
    break;
  }
  if (seq !== renderSeq) return;
  onNav(nav);
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  try {
    const c = await page({ config, main, params, query: url.searchParams });
    if (seq === renderSeq) cleanup = c;
    else if (c) c();
  } finally {
    main.removeAttribute('aria-busy');
  }
}

/** Query parameters every in-app navigation keeps (the chosen system), so the address can be shared. */
const kept = new Map<string, string>();

export function keepParam(name: string, value: string | null): void {
  if (value === null) kept.delete(name);
  else kept.set(name, value);
}

export function withKeptParams(href: string): string {
  if (kept.size === 0) return href;
  const url = new URL(href, location.href);
  for (const [k, v] of kept) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
  return url.pathname + url.search + url.hash;
}

export function navigate(href: string): void {
  history.pushState(null, '', withKeptParams(href));
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** Same-origin links navigate without reloading. */
export function interceptLinks(): void {
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey)
      return;
    const a = (ev.target as Element | null)?.closest('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    // The server's own documents (API, its docs, Atom and GBFS feeds) are not app pages.
    if (url.origin !== location.origin || /^\/(api\/|docs|feeds\/|gbfs\/)/.test(url.pathname)) return;
    ev.preventDefault();
    const href = withKeptParams(url.pathname + url.search);
    if (new URL(url.hash ? href + url.hash : href, location.href).href !== location.href) navigate(href);
  });
}
