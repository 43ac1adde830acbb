/**
 * Retention of the notification tables on a real SQLite file: finished deliveries (delivered,
 * dead, cancelled) and their attempts go after the retention, pending ones never; an announcement
 * goes only once no delivery points at it; a deleted webhook goes; the newest row of each table
 * stays so that ids are never reused; the notifier's timer runs the job and the counter moves.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadNotifyConfig,
  NotifyConfigError,
  notifyMetrics,
  pruneNotifications,
  type Notifier,
  type NotifyService,
  type PruneCounts,
} from '../../src/notify/index.js';
import { heldChange, openNotifier, Receiver, T0, testConfig, until, useNotifyDb } from './helpers.js';

const DAY_MS = 86_400_000;

/** dockwatch_notify_pruned_total, by table, as /metrics shows it. */
async function prunedCounter(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await notifyMetrics.pruned.get()).values) out[String(v.labels['table'])] = v.value;
  return out;
}

function count(file: string, sql: string): number {
  const raw = new Database(file, { readonly: true });
  try {
    return raw.prepare(sql).pluck().get() as number;
  } finally {
    raw.close();
  }
}

describe('notification retention', () => {
  const db = useNotifyDb();
  let ok: Receiver;
  let failing: Receiver;
  let notifier: Notifier;
  let service: NotifyService;
  const hooks = { gone: 0, ok: 0, failing: 0 };

  beforeEach(async () => {
    ok = await new Receiver([200]).start();
    failing = await new Receiver([500]).start();
    // One attempt, then dead: the test needs every end state without waiting for back-offs.
    ({ notifier, service } = await openNotifier(db, testConfig({ maxAttempts: 1, retentionDays: 7 })));
    // The webhook deleted below is not the newest: the newest webhook row always stays.
    hooks.gone = (await service.createWebhook({ url: `${ok.url}/gone` })).id;
    hooks.ok = (await service.createWebhook({ url: `${ok.url}/ok` })).id;
    hooks.failing = (await service.createWebhook({ url: `${failing.url}/fail` })).id;
    await notifier.runOnce(); // the cursor starts after existing history
  });
  afterEach(async () => {
    await notifier.stop();
    await ok.close();
    await failing.close();
  });

  /** A held change announced and, unless told otherwise, sent: delivered to `ok`, dead at `failing`. */
  async function announce(stationId: string, at: number, send = true): Promise<void> {
    await heldChange(db.store, stationId, at);
    expect(await notifier.announcer.tick()).toBe(1);
    if (send) await notifier.deliverer.tick();
  }

  it('deletes what finished before the retention, never a pending delivery nor its announcement', async () => {
    await heldChange(db.store, '1001', T0 + 60);
    await notifier.announcer.tick();
    await db.notifyStore.deleteWebhook(hooks.gone, Date.now()); // its delivery: cancelled
    await notifier.deliverer.tick();
    await announce('1002', T0 + 2000, false); // two deliveries still pending
    const before = await db.notifyStore.listDeliveries({ limit: 10 });
    expect(before.map((d) => d.status).sort()).toEqual([
      'cancelled',
      'dead',
      'delivered',
      'pending',
      'pending',
    ]);

    // Within the retention: nothing goes.
    expect(await notifier.prune()).toEqual({ outbox: 0, attempts: 0, announcements: 0, webhooks: 0 });

    const counter = await prunedCounter();
    const pruned = await notifier.prune(Date.now() + 8 * DAY_MS);
    expect(pruned).toEqual<PruneCounts>({ outbox: 3, attempts: 2, announcements: 1, webhooks: 1 });
    const after = await db.notifyStore.listDeliveries({ limit: 10 });
    expect(after.map((d) => [d.status, d.announcement.stationId])).toEqual([
      ['pending', '1002'],
      ['pending', '1002'],
    ]);
    expect(await db.notifyStore.getAnnouncement(before.at(-1)!.announcementId)).toBeNull();
    expect(count(db.tmp.file, 'SELECT count(*) FROM notify_webhooks')).toBe(2);
    expect(count(db.tmp.file, 'SELECT count(*) FROM notify_attempts')).toBe(0);
    expect((await service.listWebhooks()).map((w) => w.id)).toEqual([hooks.ok, hooks.failing]);
    const moved = await prunedCounter();
    for (const table of ['outbox', 'attempts', 'announcements', 'webhooks'] as const) {
      expect(moved[table]! - (counter[table] ?? 0)).toBe(pruned![table]);
    }

    // Once sent, the pending deliveries age like the others.
    await notifier.deliverer.tick();
    const later = await notifier.prune(Date.now() + 8 * DAY_MS);
    expect(later?.outbox).toBe(1); // the newest row stays (next test)
    expect(await db.notifyStore.pendingCount()).toBe(0);
  });

  it('keeps the newest row of each table, so a new delivery never gets an old id', async () => {
    await announce('1001', T0 + 60);
    await announce('1002', T0 + 2000);
    const old = await db.notifyStore.listDeliveries({ limit: 10 });
    expect(old).toHaveLength(6); // three webhooks, two announcements
    const newestId = Math.max(...old.map((d) => d.id));

    // Small batches: the job goes on until a batch comes back short.
    const pruned = await pruneNotifications({
      notifyStore: db.notifyStore,
      retentionDays: 7,
      nowMs: Date.now() + 8 * DAY_MS,
      batchSize: 2,
    });
    expect(pruned).toEqual({ outbox: 5, attempts: 5, announcements: 1, webhooks: 0 });
    expect((await db.notifyStore.listDeliveries({ limit: 10 })).map((d) => d.id)).toEqual([newestId]);

    await announce('1003', T0 + 4000);
    const fresh = await db.notifyStore.listDeliveries({ limit: 10 });
    expect(
      fresh
        .map((d) => d.id)
        .filter((id) => id !== newestId)
        .every((id) => id > newestId),
    ).toBe(true);
    // A receiver that keeps the Dockwatch-Delivery ids it has seen sees each once.
    const seen = [...ok.requests, ...failing.requests].map((r) => r.headers['dockwatch-delivery']);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('runs on the notifier’s own timer and counts what it deleted', async () => {
    await announce('1001', T0 + 60);
    await announce('1002', T0 + 2000);
    // Age the first announcement and its deliveries by ten days, as the wall clock would.
    const raw = new Database(db.tmp.file);
    const tenDaysAgo = Date.now() - 10 * DAY_MS;
    raw.prepare('UPDATE notify_announcements SET created_ms = ? WHERE id = 1').run(tenDaysAgo);
    raw
      .prepare('UPDATE notify_outbox SET created_ms = ?, finished_ms = ? WHERE announcement_id = 1')
      .run(tenDaysAgo, tenDaysAgo);
    raw.close();
    const counter = await prunedCounter();

    await notifier.stop();
    ({ notifier } = await openNotifier(db, testConfig({ maxAttempts: 1, retentionDays: 7 }), {
      retentionEveryMs: 30,
    }));
    notifier.start();
    await until(
      () => count(db.tmp.file, 'SELECT count(*) FROM notify_announcements') === 1,
      5000,
      'the timer to prune',
    );
    expect(count(db.tmp.file, 'SELECT count(*) FROM notify_outbox WHERE announcement_id = 1')).toBe(0);
    expect(count(db.tmp.file, 'SELECT count(*) FROM notify_outbox WHERE announcement_id = 2')).toBe(3);
    const moved = await prunedCounter();
    expect(moved['outbox']! - (counter['outbox'] ?? 0)).toBe(3);
    expect(moved['announcements']! - (counter['announcements'] ?? 0)).toBe(1);
  });

  it('takes its own retention, else the store’s, else 60 days', async () => {
    const own = await openNotifier(db, testConfig({ retentionDays: 3 }), { defaultRetentionDays: 30 });
    expect(own.notifier.retentionDays).toBe(3);
    const fromStore = await openNotifier(db, testConfig(), { defaultRetentionDays: 30 });
    expect(fromStore.notifier.retentionDays).toBe(30);
    expect((await openNotifier(db, testConfig())).notifier.retentionDays).toBe(60);
    expect(loadNotifyConfig({ DOCKWATCH_NOTIFY_RETENTION_DAYS: '14' }).retentionDays).toBe(14);
    expect(() => loadNotifyConfig({ DOCKWATCH_NOTIFY_RETENTION_DAYS: '0' })).toThrow(NotifyConfigError);
    expect(() => loadNotifyConfig({ DOCKWATCH_NOTIFY_RETENTION_DAYS: 'soon' })).toThrow(
      /DOCKWATCH_NOTIFY_RETENTION_DAYS = "soon"/,
    );
  });
});
