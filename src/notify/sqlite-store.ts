/**
 * NotifyStore on SQLite: its own connection and tables (notify_*) on the same file as the
 * pipeline's store (or another file). better-sqlite3 is synchronous; the interface is async like
 * the Store's, so a throw becomes a rejected promise.
 */
import type Database from 'better-sqlite3';
import { applyNotifyMigrations, openNotifyDatabase } from './sqlite-schema.js';
import { OutboxTables } from './sqlite-outbox.js';
import { pruneBatch } from './sqlite-retention.js';
import { SubscriptionTables } from './sqlite-subscriptions.js';
import type {
  AttemptRecord,
  AttemptResult,
  DeliveryQuery,
  NewAnnouncement,
  NewPushSubscription,
  NewWebhook,
  NotifyStore,
  StationAnnounceState,
  VapidKeys,
} from './types.js';

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export class SqliteNotifyStore implements NotifyStore {
  private readonly subs: SubscriptionTables;
  private readonly outbox: OutboxTables;

  constructor(private readonly db: Database.Database) {
    this.subs = new SubscriptionTables(db);
    this.outbox = new OutboxTables(db);
  }

  /** One IMMEDIATE transaction: takes the write lock first, so another process waits, never deadlocks. */
  private write<T>(fn: () => T): Promise<T> {
    return settle(() => this.db.transaction(fn).immediate());
  }

  migrate(): Promise<void> {
    return settle(() => void applyNotifyMigrations(this.db));
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.db.open) this.db.close();
    });
  }

  vapidKeys(generate: () => VapidKeys): Promise<VapidKeys> {
    return this.write(() => this.subs.vapidKeys(generate));
  }

  createWebhook(w: NewWebhook, nowMs: number) {
    return this.write(() => this.subs.createWebhook(w, nowMs));
  }

  listWebhooks(system: string) {
    return settle(() => this.subs.listWebhooks(system));
  }

  getWebhook(id: number) {
    return settle(() => this.subs.getWebhook(id));
  }

  deleteWebhook(id: number, nowMs: number) {
    return this.write(() => {
      const deleted = this.subs.deleteWebhook(id, nowMs);
      if (deleted) this.outbox.cancelTarget('webhook', id, nowMs, 'subscription deleted');
      return deleted;
    });
  }

  upsertPushSubscription(p: NewPushSubscription, nowMs: number, maxPerSystem?: number) {
    return this.write(() => this.subs.upsertPush(p, nowMs, maxPerSystem));
  }

  getPushSubscription(id: number) {
    return settle(() => this.subs.getPush(id));
  }

  listPushSubscriptions(system: string) {
    return settle(() => this.subs.listPush(system));
  }

  deletePushSubscription(endpoint: string, nowMs: number) {
    return this.write(() => {
      const id = this.subs.pushIdOf(endpoint);
      return id === null ? false : this.deletePushInTx(id, nowMs);
    });
  }

  deletePushSubscriptionById(id: number, nowMs: number) {
    return this.write(() => this.deletePushInTx(id, nowMs));
  }

  private deletePushInTx(id: number, nowMs: number): boolean {
    this.outbox.cancelTarget('push', id, nowMs, 'push subscription removed');
    return this.subs.deletePush(id);
  }

  loadAnnouncer(system: string) {
    return settle(() => this.outbox.loadAnnouncer(system));
  }

  commitAnnouncer(
    system: string,
    step: { cursor: number; stations: StationAnnounceState[]; announcements: NewAnnouncement[] },
    nowMs: number,
  ) {
    return this.write(() => this.outbox.commitAnnouncer(system, step, nowMs));
  }

  claimDue(nowMs: number, leaseMs: number, limit: number) {
    return this.write(() => this.outbox.claimDue(nowMs, leaseMs, limit));
  }

  recordAttempt(itemId: number, attempt: AttemptRecord, result: AttemptResult) {
    return this.write(() => this.outbox.recordAttempt(itemId, attempt, result));
  }

  cancel(itemId: number, nowMs: number, reason: string) {
    return this.write(() => this.outbox.cancel(itemId, nowMs, reason));
  }

  getAnnouncement(id: number) {
    return settle(() => this.outbox.getAnnouncement(id));
  }

  listDeliveries(query: DeliveryQuery) {
    return settle(() => this.outbox.listDeliveries(query));
  }

  getDelivery(id: number) {
    return settle(() => this.outbox.getDelivery(id));
  }

  requeue(id: number, nowMs: number) {
    return this.write(() => this.outbox.requeue(id, nowMs));
  }

  pendingCount() {
    return settle(() => this.outbox.pendingCount());
  }

  pruneBatch(beforeMs: number, limit: number) {
    return this.write(() => pruneBatch(this.db, beforeMs, limit));
  }
}

/**
 * Opens the notification store on a SQLite file (normally the pipeline store's file: the same
 * `--database` / DOCKWATCH_DATABASE path) and applies its migrations.
 */
export async function openSqliteNotifyStore(file: string): Promise<SqliteNotifyStore> {
  const db = openNotifyDatabase(file);
  const store = new SqliteNotifyStore(db);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
