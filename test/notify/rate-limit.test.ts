/**
 * The public push routes that write, over real HTTP: limited per client IP (429, Retry-After and
 * the API's JSON error), while reading routes are not limited at all; and the cap on the number
 * of push subscriptions (409 subscriptions_full, updates still allowed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notifyMetrics, type NotifyConfig } from '../../src/notify/index.js';
import { pushSubscriptionBody, startApi, SYSTEM, testConfig, useNotifyDb, type TestApi } from './helpers.js';

describe('public push routes: rate limit and cap', () => {
  const db = useNotifyDb();
  let api: TestApi | null = null;

  afterEach(async () => {
    await api?.app.close();
    api = null;
  });

  async function start(config: Partial<NotifyConfig>): Promise<TestApi> {
    api = await startApi(db, testConfig(config));
    return api;
  }

  const endpoint = (n: number): string => `http://127.0.0.1:9/push/browser-${n}`;

  /** dockwatch_notify_push_refused_total{reason}. */
  async function refused(reason: 'rate_limited' | 'full'): Promise<number> {
    return (
      (await notifyMetrics.pushRefused.get()).values.find((v) => v.labels['reason'] === reason)?.value ?? 0
    );
  }

  it('answers 429 with Retry-After and a JSON error once a client passes the limit', async () => {
    const { call } = await start({ pushRateLimit: 3, pushRateWindowSec: 60 });
    const refusedBefore = await refused('rate_limited');
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(i)));
      expect(r.status).toBe(201);
      expect(r.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
    }
    for (let i = 3; i < 6; i++) {
      const r = await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(i)));
      expect(r.status).toBe(429);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.json).toEqual({
        code: 'rate_limited',
        message: expect.stringMatching(/^Too many requests from this address: retry in \d+/) as unknown,
      });
    }
    expect((await refused('rate_limited')) - refusedBefore).toBe(3);
    // Refused requests stored nothing.
    expect((await db.notifyStore.listPushSubscriptions(SYSTEM)).map((p) => p.endpoint)).toEqual([
      endpoint(0),
      endpoint(1),
      endpoint(2),
    ]);
  });

  it('counts per client address: another address still gets through', async () => {
    const { call, app } = await start({ pushRateLimit: 2 });
    for (let i = 0; i < 2; i++) await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(i)));
    expect((await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(2)))).status).toBe(429);
    const inject = (remoteAddress: string, n: number) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/push/subscriptions',
        remoteAddress,
        payload: pushSubscriptionBody(endpoint(n)),
      });
    expect((await inject('203.0.113.7', 3)).statusCode).toBe(201);
    expect((await inject('203.0.113.7', 4)).statusCode).toBe(201);
    expect((await inject('203.0.113.7', 5)).statusCode).toBe(429);
    expect((await inject('198.51.100.1', 6)).statusCode).toBe(201);
  });

  it('limits DELETE too, and leaves the reading routes alone', async () => {
    const { call } = await start({ pushRateLimit: 2 });
    const gone = { endpoint: endpoint(0) };
    expect((await call('DELETE', '/push/subscriptions', gone)).status).toBe(204);
    expect((await call('DELETE', '/push/subscriptions', gone)).status).toBe(204);
    expect((await call('DELETE', '/push/subscriptions', gone)).status).toBe(429);
    for (let i = 0; i < 10; i++) {
      for (const path of ['/stations', '/push/key']) {
        const r = await call('GET', path);
        expect({ path, status: r.status }).toEqual({ path, status: 200 });
        expect(r.headers.get('x-ratelimit-limit')).toBeNull();
      }
    }
  });

  it('documents the limited routes and their 409 / 429 answers in the OpenAPI document', async () => {
    const { base } = await start({});
    const doc = (await (await fetch(`${base.replace(/\/api\/v1$/, '')}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const route = doc.paths['/api/v1/push/subscriptions']!;
    expect(Object.keys(route['post']!.responses)).toEqual(expect.arrayContaining(['201', '409', '429']));
    expect(Object.keys(route['delete']!.responses)).toEqual(expect.arrayContaining(['429']));
  });

  it('keeps at most maxPushSubscriptions: a new browser gets 409, a known one can still update', async () => {
    const { call } = await start({ maxPushSubscriptions: 2, pushRateLimit: 100 });
    expect((await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(1)))).status).toBe(201);
    expect((await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(2)))).status).toBe(201);
    const fullBefore = await refused('full');
    const full = await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(3)));
    expect(full.status).toBe(409);
    expect((await refused('full')) - fullBefore).toBe(1);
    expect(full.json).toMatchObject({ code: 'subscriptions_full' });
    expect(String(full.json!['message'])).toContain('at most 2 push subscriptions');
    // An existing subscription changes its favourites: not a new row, allowed.
    const update = await call(
      'POST',
      '/push/subscriptions',
      pushSubscriptionBody(endpoint(1), ['16108'], 'fr'),
    );
    expect(update.status).toBe(201);
    expect(
      (await db.notifyStore.listPushSubscriptions(SYSTEM)).map((p) => [p.endpoint, p.stationIds]),
    ).toEqual([
      [endpoint(1), ['1002']],
      [endpoint(2), ['1001']],
    ]);
    // Room again once a browser unsubscribes.
    expect((await call('DELETE', '/push/subscriptions', { endpoint: endpoint(2) })).status).toBe(204);
    expect((await call('POST', '/push/subscriptions', pushSubscriptionBody(endpoint(3)))).status).toBe(201);
  });
});
