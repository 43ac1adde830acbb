/**
 * The notification routes over real HTTP: admin token (403 without one configured, 401 without
 * or with a wrong one), webhook creation and its checks, the delivery log and the redrive of a
 * dead letter, and the public push subscription routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Notifier, NotifyConfig } from '../../src/notify/index.js';
import {
  heldChange,
  pushSubscriptionBody,
  Receiver,
  startApi,
  SYSTEM,
  testConfig,
  until,
  useNotifyDb,
  type TestApi,
} from './helpers.js';

const TOKEN = 'test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('notification API', () => {
  const db = useNotifyDb();
  let api: TestApi | null = null;
  let notifier: Notifier;

  afterEach(async () => {
    await api?.app.close();
    api = null;
  });

  async function start(config: NotifyConfig): Promise<void> {
    api = await startApi(db, config);
    notifier = api.notifier;
  }

  /** The admin token unless told otherwise. */
  function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
    return api!.call(method, path, body, headers);
  }

  it('answers 403 with a clear message when no admin token is configured', async () => {
    await start(testConfig({ adminToken: undefined }));
    for (const [method, path] of [
      ['GET', '/webhooks'],
      ['POST', '/webhooks'],
      ['DELETE', '/webhooks/1'],
    ] as const) {
      const r = await call(method, path, method === 'POST' ? { url: 'https://x.example/' } : undefined);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ code: 'forbidden' });
      expect(String(r.json!['message'])).toContain('DOCKWATCH_ADMIN_TOKEN');
    }
  });

  it('answers 401 without the token or with a wrong one', async () => {
    await start(testConfig());
    const none = await call('GET', '/webhooks', undefined, {});
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ code: 'unauthorized' });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await call('GET', '/webhooks', undefined, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(String(wrong.json!['message'])).toMatch(/wrong/);
  });

  it('creates, lists, shows and deletes webhooks; the secret is shown once', async () => {
    await start(testConfig({ allowPrivate: false }));
    const created = await call('POST', '/webhooks', {
      url: 'https://93.184.216.34/hook',
      description: 'ops',
      stations: ['16107', '1002'], // a code, and a feed station_id
      states: ['locked', 'ok'],
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: 1,
      url: 'https://93.184.216.34/hook',
      description: 'ops',
      stations: ['16107', '16108'],
      area: null,
      states: ['locked', 'ok'],
      active: true,
    });
    expect(String(created.json!['secret'])).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const area = await call('POST', '/webhooks', {
      url: 'https://93.184.216.34/area',
      area: { lat: 48.86, lon: 2.27, radiusM: 1500 },
    });
    expect(area.status).toBe(201);
    expect(area.json).toMatchObject({
      stations: null,
      area: { lat: 48.86, lon: 2.27, radiusM: 1500 },
      states: null,
    });

    const list = await call('GET', '/webhooks');
    expect(list.status).toBe(200);
    const hooks = list.json!['webhooks'] as Record<string, unknown>[];
    expect(hooks.map((h) => h['id'])).toEqual([1, 2]);
    expect(hooks.every((h) => !('secret' in h))).toBe(true);
    expect((await call('GET', '/webhooks/2')).json).toMatchObject({
      id: 2,
      url: 'https://93.184.216.34/area',
    });

    expect((await call('DELETE', '/webhooks/1')).status).toBe(204);
    expect((await call('GET', '/webhooks/1')).status).toBe(404);
    expect((await call('DELETE', '/webhooks/1')).status).toBe(404);
    expect(((await call('GET', '/webhooks')).json!['webhooks'] as unknown[]).length).toBe(1);
  });

  it('refuses bad subscriptions with the parameter named', async () => {
    await start(testConfig({ allowPrivate: false }));
    const cases: [unknown, number, string, string][] = [
      [{ url: 'http://127.0.0.1:9000/hook' }, 400, 'invalid_parameter', 'url'],
      [{ url: 'http://[::1]/hook' }, 400, 'invalid_parameter', 'url'],
      [{ url: 'ftp://93.184.216.34/' }, 400, 'invalid_parameter', 'url'],
      [{ url: 'https://93.184.216.34/', stations: ['99999'] }, 404, 'station_not_found', 'stations'],
      [
        { url: 'https://93.184.216.34/', stations: ['16107'], area: { lat: 1, lon: 2, radiusM: 10 } },
        400,
        'invalid_parameter',
        'area',
      ],
      [{ url: 'https://93.184.216.34/', states: ['broken'] }, 400, 'invalid_parameter', 'states'],
      [
        { url: 'https://93.184.216.34/', area: { lat: 91, lon: 2, radiusM: 10 } },
        400,
        'invalid_parameter',
        'area',
      ],
      [{ url: 'https://93.184.216.34/', colour: 'red' }, 400, 'unknown_parameter', 'colour'],
      [{}, 400, 'missing_parameter', 'url'],
    ];
    for (const [body, status, code, param] of cases) {
      const r = await call('POST', '/webhooks', body);
      expect({ body, status: r.status, code: r.json?.['code'], param: r.json?.['param'] }).toEqual({
        body,
        status,
        code,
        param,
      });
    }
    expect(((await call('GET', '/webhooks')).json!['webhooks'] as unknown[]).length).toBe(0);
  });

  it('shows the delivery log, and sends a dead letter again on request', async () => {
    const receiver = await new Receiver([500]).start();
    try {
      await start(testConfig({ maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 20 }));
      const created = await call('POST', '/webhooks', { url: `${receiver.url}/hook` });
      const id = created.json!['id'] as number;
      await notifier.runOnce();
      await heldChange(db.store);
      await notifier.runOnce();
      await new Promise((r) => setTimeout(r, 40));
      await notifier.runOnce();

      const log = await call('GET', `/webhooks/${id}/deliveries`);
      expect(log.status).toBe(200);
      const [d] = log.json!['deliveries'] as Record<string, unknown>[];
      expect(d).toMatchObject({ status: 'dead', attempts: 2, lastStatus: 500, nextAttemptSec: null });
      expect(d!['event']).toMatchObject({
        type: 'station.state_changed',
        to: 'locked',
        station: { code: '16107' },
      });
      expect(
        (d!['attemptLog'] as Record<string, unknown>[]).map((a) => [a['httpStatus'], a['outcome']]),
      ).toEqual([
        [500, 'retry'],
        [500, 'dead'],
      ]);
      expect((await call('GET', `/webhooks/${id}/deliveries?status=delivered`)).json!['deliveries']).toEqual(
        [],
      );

      receiver.plan = [200];
      const retry = await call('POST', `/webhooks/${id}/deliveries/${d!['id'] as number}/retry`);
      expect(retry.status).toBe(202);
      await notifier.runOnce();
      await until(() => receiver.requests.length === 3, 2000, 'the redelivery');
      const after = (await call('GET', `/webhooks/${id}/deliveries`)).json!['deliveries'] as Record<
        string,
        unknown
      >[];
      expect(after[0]).toMatchObject({ status: 'delivered', attempts: 1 });
      const again = await call('POST', `/webhooks/${id}/deliveries/${d!['id'] as number}/retry`);
      expect(again.status).toBe(409);
      expect((await call('POST', `/webhooks/${id}/deliveries/999/retry`)).status).toBe(404);
    } finally {
      await receiver.close();
    }
  });

  it('stores and removes a browser’s push subscription (no admin token needed)', async () => {
    await start(testConfig());
    const key = await call('GET', '/push/key', undefined, {});
    expect(key.json!['publicKey']).toBe(notifier.vapidPublicKey);
    const sub = pushSubscriptionBody('http://127.0.0.1:9/push/abc', ['16107', '16107', 'gone-1'], 'en');
    const saved = await call('POST', '/push/subscriptions', sub, {});
    expect(saved.status).toBe(201);
    expect(saved.json).toEqual({ stations: ['16107'], unknown: ['gone-1'] });
    const [row] = await db.notifyStore.listPushSubscriptions(SYSTEM);
    expect(row).toMatchObject({ stationIds: ['1001'], lang: 'en' });
    // Same endpoint again: replaced, not duplicated.
    await call('POST', '/push/subscriptions', { ...sub, stations: ['16108'], lang: 'fr' }, {});
    expect((await db.notifyStore.listPushSubscriptions(SYSTEM)).map((p) => [p.stationIds, p.lang])).toEqual([
      [['1002'], 'fr'],
    ]);

    const bad = await call(
      'POST',
      '/push/subscriptions',
      { ...sub, subscription: { ...sub.subscription, keys: { p256dh: 'xx', auth: 'yy' } } },
      {},
    );
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'invalid_parameter', param: 'subscription.keys.p256dh' });

    expect(
      (await call('DELETE', '/push/subscriptions', { endpoint: sub.subscription.endpoint }, {})).status,
    ).toBe(204);
    expect(await db.notifyStore.listPushSubscriptions(SYSTEM)).toEqual([]);
    expect(
      (await call('DELETE', '/push/subscriptions', { endpoint: sub.subscription.endpoint }, {})).status,
    ).toBe(204);
  });
});
