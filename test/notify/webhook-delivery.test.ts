/**
 * Webhook delivery to a real local receiver: signed bodies that verify, retries with back-off
 * after 500s, the dead letter after N failures, and a restart in the middle of the retries that
 * loses nothing and sends nothing twice.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  verifySignature,
  type Notifier,
  type NotifyConfig,
  type WebhookPayload,
} from '../../src/notify/index.js';
import {
  changeAt,
  documentAt,
  heldChange,
  openNotifier,
  Receiver,
  SYSTEM,
  T0,
  testConfig,
  until,
  useNotifyDb,
} from './helpers.js';

const HOLD = 600;

describe('webhook delivery', () => {
  const db = useNotifyDb();
  let receiver: Receiver;

  beforeEach(async () => {
    receiver = await new Receiver().start();
  });
  afterEach(async () => {
    await receiver.close();
  });

  async function setup(
    config: NotifyConfig,
  ): Promise<{ notifier: Notifier; secret: string; hookId: number }> {
    const { notifier, service } = await openNotifier(db, config, { tickMs: 20 });
    const hook = await service.createWebhook({ url: `${receiver.url}/hook?x=1`, states: ['locked'] });
    await notifier.runOnce(); // first run: history before now is not news
    return { notifier, secret: hook.secret, hookId: hook.id };
  }

  /** A lock that held: one announcement for the webhook. */
  const lockHeld = (stationId?: string, at?: number): Promise<void> => heldChange(db.store, stationId, at);

  it('POSTs a signed JSON body that verifies with the secret (library and by hand)', async () => {
    const { notifier, secret } = await setup(testConfig());
    await lockHeld();
    await changeAt(db.store, T0 + 2000, '1002', 'ok', 'rent_blocked'); // not a state of interest
    await documentAt(db.store, T0 + 2000 + HOLD);
    const { announced } = await notifier.runOnce();
    expect(announced).toBe(2);
    await until(() => receiver.requests.length === 1, 3000, 'the delivery');
    await notifier.runOnce();
    expect(receiver.requests).toHaveLength(1);

    const [req] = receiver.requests;
    const body = req!.body.toString('utf8');
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/hook?x=1');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['dockwatch-event']).toBe('station.state_changed');
    const ts = req!.headers['dockwatch-timestamp'] as string;
    const sig = req!.headers['dockwatch-signature'] as string;
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
    expect(
      verifySignature({
        secret,
        body,
        timestampHeader: ts,
        signatureHeader: sig,
        nowSec: Math.floor(Date.now() / 1000),
      }),
    ).toBe(true);
    // What docs/notifications.md tells receivers to do, with nothing but node:crypto.
    const expected = createHmac('sha256', secret).update(`${ts}.${body}`).digest();
    expect(timingSafeEqual(Buffer.from(sig.replace(/^v1=/, ''), 'hex'), expected)).toBe(true);
    // Tampering breaks it; a wrong secret too; an old timestamp too.
    const nowSec = Math.floor(Date.now() / 1000);
    expect(
      verifySignature({ secret, body: body + ' ', timestampHeader: ts, signatureHeader: sig, nowSec }),
    ).toBe(false);
    expect(
      verifySignature({ secret: 'whsec_x', body, timestampHeader: ts, signatureHeader: sig, nowSec }),
    ).toBe(false);
    expect(
      verifySignature({ secret, body, timestampHeader: ts, signatureHeader: sig, nowSec: nowSec + 3600 }),
    ).toBe(false);

    const payload = JSON.parse(body) as WebhookPayload;
    expect(payload).toMatchObject({ system: SYSTEM, from: 'ok', to: 'locked', station: { code: '16107' } });
    const [delivery] = await db.notifyStore.listDeliveries({ limit: 10 });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(req!.headers['dockwatch-delivery']).toBe(String(delivery!.id));
  });

  it('retries after the receiver answers 500, with growing delays, then delivers once', async () => {
    receiver.plan = [500, 500, 200];
    const config = testConfig({ backoffBaseMs: 60, backoffMaxMs: 1000 });
    const { notifier } = await setup(config);
    await lockHeld();
    notifier.start();
    try {
      await until(() => receiver.requests.length >= 3, 5000, 'three attempts');
      await until(async () => (await db.notifyStore.pendingCount()) === 0, 2000, 'the outbox to drain');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await notifier.stop();
    }
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    const ids = new Set(receiver.requests.map((r) => r.headers['dockwatch-delivery']));
    expect(ids.size).toBe(1); // the same delivery, retried
    const gaps = [1, 2].map((i) => receiver.requests[i]!.atMs - receiver.requests[i - 1]!.atMs);
    expect(gaps[0]).toBeGreaterThanOrEqual(30); // ≥ half of 60 ms (equal jitter)
    expect(gaps[1]).toBeGreaterThanOrEqual(60); // ≥ half of 120 ms
    const [d] = await db.notifyStore.listDeliveries({ limit: 5 });
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 200 });
    expect(d!.attemptLog.map((a) => [a.attempt, a.httpStatus, a.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 500, 'retry'],
      [3, 200, 'delivered'],
    ]);
    expect(d!.attemptLog[0]!.error).toContain('receiver says 500');
  });

  it('dead-letters after maxAttempts failures and sends no more', async () => {
    receiver.plan = [500];
    const { notifier } = await setup(testConfig({ maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 50 }));
    await lockHeld();
    notifier.start();
    try {
      await until(
        async () => (await db.notifyStore.listDeliveries({ status: 'dead', limit: 1 })).length === 1,
        5000,
        'dead',
      );
      await new Promise((r) => setTimeout(r, 300)); // time for more retries, if any were wrongly planned
    } finally {
      await notifier.stop();
    }
    expect(receiver.requests).toHaveLength(3);
    const [d] = await db.notifyStore.listDeliveries({ limit: 1 });
    expect(d).toMatchObject({ status: 'dead', attempts: 3, lastStatus: 500 });
    expect(d!.attemptLog.map((a) => a.outcome)).toEqual(['retry', 'retry', 'dead']);
  });

  it('a connection refused counts as a failed attempt like a 500', async () => {
    const { notifier, hookId } = await setup(
      testConfig({ maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 20 }),
    );
    const url = receiver.url;
    await receiver.close();
    await lockHeld();
    await notifier.runOnce();
    await new Promise((r) => setTimeout(r, 40));
    await notifier.runOnce();
    const [d] = await db.notifyStore.listDeliveries({ targetId: hookId, limit: 1 });
    expect(d).toMatchObject({ status: 'dead', attempts: 2, lastStatus: null });
    expect(d!.lastError).toMatch(/ECONNREFUSED/);
    receiver = new Receiver(); // afterEach closes a fresh one
    await receiver.start();
    expect(url).not.toBe('');
  });

  it('a restart in the middle of the retries loses nothing and sends nothing twice', async () => {
    receiver.plan = [500, 200];
    const config = testConfig({ backoffBaseMs: 400, backoffMaxMs: 400 });
    let { notifier } = await setup(config);
    await lockHeld('1001', T0 + 60);
    await lockHeld('1003', T0 + 3000);
    await notifier.runOnce(); // two announcements; first delivery gets 500, second 200
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 200]);
    const waiting = await db.notifyStore.listDeliveries({ status: 'pending', limit: 5 });
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.nextAttemptMs).toBeGreaterThan(Date.now());

    // Stop everything while the retry waits, as a restart of dockwatch would, and reopen the files.
    await notifier.stop();
    await db.reopen();
    ({ notifier } = await openNotifier(db, config, { tickMs: 20 }));
    notifier.start();
    try {
      await until(() => receiver.requests.length >= 3, 5000, 'the retry after restart');
      await new Promise((r) => setTimeout(r, 600)); // more than a back-off: any duplicate would show
    } finally {
      await notifier.stop();
    }
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 200, 200]);
    const delivered = receiver.requests.filter((r) => r.status === 200);
    const keys = delivered.map((r) => (JSON.parse(r.body.toString('utf8')) as WebhookPayload).id);
    expect(new Set(keys).size).toBe(2); // each announcement delivered exactly once
    expect(receiver.requests[2]!.headers['dockwatch-delivery']).toBe(waiting[0]!.id.toString());
    const all = await db.notifyStore.listDeliveries({ limit: 10 });
    expect(all.map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('cancels pending deliveries of a deleted subscription', async () => {
    receiver.plan = [500];
    const config = testConfig({ backoffBaseMs: 50, backoffMaxMs: 50 });
    const { notifier, hookId } = await setup(config);
    await lockHeld();
    await notifier.runOnce();
    expect(receiver.requests).toHaveLength(1);
    await db.notifyStore.deleteWebhook(hookId, Date.now());
    await new Promise((r) => setTimeout(r, 80));
    await notifier.runOnce();
    expect(receiver.requests).toHaveLength(1);
    const [d] = await db.notifyStore.listDeliveries({ limit: 1 });
    expect(d).toMatchObject({ status: 'cancelled', lastError: 'subscription deleted' });
  });
});
