/**
 * The API function's GET /live (one complete Server-Sent Events stream with a `retry`) in a real
 * browser: Chromium's EventSource reconnects after the retry delay, so the web app gets a `hello`
 * per poll interval and reloads its stations each time (web/src/data.ts).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveBus } from '../../src/api/index.js';
import { liveFallback } from '../../src/serverless/index.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`skipping: ${CHROMIUM} is absent`);

describe.skipIf(!hasChromium)('GET /live behind API Gateway, in Chromium', () => {
  let server: Server;
  let base: string;
  let browser: Browser;
  let liveRequests = 0;

  beforeAll(async () => {
    const live = createLiveBus();
    server = createServer((req, res) => {
      if (req.url === '/api/v1/live') {
        liveRequests++;
        // A poll interval of 1 s: the browser should come back every second.
        const r = liveFallback(live, 1);
        res.writeHead(r.statusCode ?? 200, r.headers as Record<string, string>);
        res.end(r.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><script>
        window.hellos = 0;
        new EventSource('/api/v1/live').addEventListener('hello', () => window.hellos++);
      </script>`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('the browser reconnects after each complete stream and gets a hello each time', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForFunction(() => (window as unknown as { hellos: number }).hellos >= 3, undefined, {
      timeout: 15_000,
    });
    expect(liveRequests).toBeGreaterThanOrEqual(3);
    await page.close();
  }, 60_000);
});
