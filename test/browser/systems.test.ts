/// <reference lib="dom" />
/**
 * The system selector in a real browser (Debian chromium via playwright-core): a server over a
 * store holding two systems; switching shows the other system's stations, the choice is in the
 * address (links work) and remembered; a server with one system shows no selector.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, createLiveBus } from '../../src/api/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import { repoRoot } from '../api/fixture.js';
import { seedSystem, T0 } from '../api/two-systems.js';
import { hasChromium, launchChromium, openPage, seriousAxeViolations } from './chromium.js';

const webDir = path.join(repoRoot, 'web');

async function serve(store: Store, webRoot: string): Promise<{ app: FastifyInstance; base: string }> {
  const app = await createApiServer({
    store,
    systemId: 'paris',
    timezone: 'Europe/Paris',
    pollIntervalSec: 60,
    live: createLiveBus(),
    logger: silentLogger,
    refreshFromStore: true,
    webRoot,
    tileUrl: '',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { app, base: `http://127.0.0.1:${addr.port}` };
}

describe.skipIf(!hasChromium)('system selector in chromium', () => {
  let dir: string;
  let twoStore: Store;
  let oneStore: Store;
  let two: { app: FastifyInstance; base: string };
  let one: { app: FastifyInstance; base: string };
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dockwatch-web-systems-'));
    // A build of our own: the other browser test builds web/dist at the same time.
    const outDir = path.join(dir, 'dist');
    const { build } = await import('vite');
    await build({
      root: webDir,
      configFile: path.join(webDir, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
    twoStore = openSqliteStore({ path: path.join(dir, 'two.sqlite') });
    await twoStore.migrate();
    await seedSystem(twoStore, 'paris', 'Europe/Paris', 3, 48.85, T0);
    await seedSystem(twoStore, 'sf', 'America/Los_Angeles', 2, 37.77, T0);
    oneStore = openSqliteStore({ path: path.join(dir, 'one.sqlite') });
    await oneStore.migrate();
    await seedSystem(oneStore, 'paris', 'Europe/Paris', 3, 48.85, T0);
    two = await serve(twoStore, outDir);
    one = await serve(oneStore, outDir);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await two?.app.close();
    await one?.app.close();
    await twoStore?.close();
    await oneStore?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Codes of the rows of the stations table, once it shows `expected` rows. */
  async function listedCodes(page: Page, expected: number): Promise<string[]> {
    await page.waitForFunction(
      (n) => document.querySelectorAll('tbody tr[data-code]').length === n,
      expected,
    );
    return page.$$eval('tbody tr[data-code]', (rows) => rows.map((r) => r.getAttribute('data-code') ?? ''));
  }

  it('switching system shows the other system’s stations; the choice is in the address and remembered', async () => {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 800 } });
    const { page, errors } = await openPage(context, `${two.base}/stations`);
    expect((await listedCodes(page, 3)).sort()).toEqual(['PARIS1', 'PARIS2', 'PARIS3']);
    const select = page.locator('select#system');
    expect(await select.locator('option').allTextContents()).toEqual(['System paris', 'System sf']);
    expect(await select.inputValue()).toBe('paris');
    // Named for screen readers in the page's language.
    expect(await page.locator('label.system').textContent()).toContain('Bike-share system');
    expect(await seriousAxeViolations(page)).toEqual([]);

    await select.selectOption('sf');
    await page.waitForURL(/\/stations\?system=sf$/);
    expect((await listedCodes(page, 2)).sort()).toEqual(['SF1', 'SF2']);
    expect(await page.locator('select#system').inputValue()).toBe('sf');

    // In-app navigation keeps the system: the map shows sf's markers.
    await page.locator('#nav a[href="/carte"]').click();
    await page.waitForURL(/\/carte\?system=sf$/);
    await page.waitForSelector('path[data-code="SF1"]');
    expect(await page.locator('path[data-code^="PARIS"]').count()).toBe(0);

    // Remembered: a plain address opens sf again, and gets the system in its query.
    const again = await openPage(context, `${two.base}/stations`);
    expect((await listedCodes(again.page, 2)).sort()).toEqual(['SF1', 'SF2']);
    expect(again.page.url()).toMatch(/\/stations\?system=sf$/);

    // A shared link wins over the remembered choice.
    const shared = await openPage(context, `${two.base}/stations?system=paris`);
    expect((await listedCodes(shared.page, 3)).sort()).toEqual(['PARIS1', 'PARIS2', 'PARIS3']);

    // An unknown system in a link falls back to the remembered one (paris now), without an error page.
    const unknown = await openPage(context, `${two.base}/stations?system=atlantis`);
    expect(await listedCodes(unknown.page, 3)).toHaveLength(3);
    expect(unknown.page.url()).toMatch(/\/stations\?system=paris$/);

    expect([...errors, ...again.errors, ...shared.errors, ...unknown.errors]).toEqual([]);
    await context.close();
  }, 60_000);

  it('feeds and exports: the chosen system’s own URLs, which answer; push opt-in only for the default system', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const { page, errors } = await openPage(context, `${two.base}/a-propos?system=sf`);
    const hrefs = async (p: Page): Promise<string[]> => {
      await p.waitForSelector('article.prose ul a');
      return p.$$eval('article.prose h2 + p + ul a', (as) => as.map((a) => a.getAttribute('href') ?? ''));
    };
    const sf = await hrefs(page);
    expect(sf.slice(0, 2)).toEqual([
      '/feeds/systems/sf/state-changes.atom?lang=en',
      '/gbfs/systems/sf/gbfs.json',
    ]);
    expect(sf[2]).toMatch(/^\/api\/v1\/systems\/sf\/exports\/state-changes\.csv\?since=\d+&until=\d+$/);
    for (const href of sf) expect((await fetch(two.base + href)).status, href).toBe(200);
    // Feed readers find the system's feed from any page.
    expect(await page.getAttribute('link[rel="alternate"][type="application/atom+xml"]', 'href')).toBe(
      '/feeds/systems/sf/state-changes.atom?lang=en',
    );

    await page.goto(`${two.base}/station/SF1?system=sf`, { waitUntil: 'load' });
    const stationFeed = page.locator('a[type="application/atom+xml"]');
    await stationFeed.waitFor();
    expect(await stationFeed.getAttribute('href')).toBe('/feeds/systems/sf/stations/SF1.atom?lang=en');

    await page.goto(`${two.base}/favoris?system=sf`, { waitUntil: 'load' });
    await page.waitForSelector('main h1');
    expect(await page.locator('.push-optin').count()).toBe(0);
    await page.goto(`${two.base}/favoris?system=paris`, { waitUntil: 'load' });
    await page.waitForSelector('.push-optin');

    // The default system on a one-system server: the unprefixed URLs, as before.
    const plain = await openPage(context, `${one.base}/a-propos`);
    const links = await hrefs(plain.page);
    expect(links.slice(0, 2)).toEqual(['/feeds/state-changes.atom?lang=en', '/gbfs/gbfs.json']);
    expect(links[2]).toMatch(/^\/api\/v1\/exports\/state-changes\.csv\?/);
    expect([...errors, ...plain.errors]).toEqual([]);
    await context.close();
  }, 60_000);

  it('one system: no selector, plain addresses', async () => {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const { page, errors } = await openPage(context, `${one.base}/stations`);
    expect(await listedCodes(page, 3)).toHaveLength(3);
    expect(await page.locator('select#system').count()).toBe(0);
    expect(new URL(page.url()).search).toBe('');
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
