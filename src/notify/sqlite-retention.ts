/**
 * Retention of the notification tables: one bounded batch, inside the caller's transaction.
 *
 * - Outbox rows go once finished (delivered, dead, cancelled) before the limit, with their
 *   attempt log; a pending row is never touched, however old.
 * - An announcement goes once it is older than the limit and no outbox row points at it any more
 *   (so none is pending, and the delivery log never shows a delivery without its event).
 * - A soft-deleted webhook goes once it was deleted before the limit and no outbox row points at it.
 *
 * The newest row of each table always stays, as the store keeps its newest event batch: SQLite
 * gives a new row max(id) + 1, and ids are public (`Dockwatch-Delivery`, webhook ids) — a
 * receiver that remembers delivery ids must never see one again for another delivery.
 */
import type Database from 'better-sqlite3';
import type { PruneCounts } from './types.js';

export function pruneBatch(db: Database.Database, beforeMs: number, limit: number): PruneCounts {
  const outboxIds = db
    .prepare(
      `SELECT id FROM notify_outbox
       WHERE status <> 'pending' AND finished_ms < ? AND id < (SELECT max(id) FROM notify_outbox)
       ORDER BY finished_ms LIMIT ?`,
    )
    .pluck()
    .all(beforeMs, limit) as number[];
  let attempts = 0;
  let outbox = 0;
  if (outboxIds.length > 0) {
    const ids = JSON.stringify(outboxIds);
    attempts = db
      .prepare('DELETE FROM notify_attempts WHERE outbox_id IN (SELECT value FROM json_each(?))')
      .run(ids).changes;
    outbox = db
      .prepare('DELETE FROM notify_outbox WHERE id IN (SELECT value FROM json_each(?))')
      .run(ids).changes;
  }
  const announcements = db
    .prepare(
      `DELETE FROM notify_announcements WHERE id IN (
         SELECT a.id FROM notify_announcements a
         WHERE a.created_ms < ? AND a.id < (SELECT max(id) FROM notify_announcements)
           AND NOT EXISTS (SELECT 1 FROM notify_outbox o WHERE o.announcement_id = a.id)
         ORDER BY a.created_ms LIMIT ?)`,
    )
    .run(beforeMs, limit).changes;
  const webhooks = db
    .prepare(
      `DELETE FROM notify_webhooks WHERE id IN (
         SELECT w.id FROM notify_webhooks w
         WHERE w.deleted_ms < ? AND w.id < (SELECT max(id) FROM notify_webhooks)
           AND NOT EXISTS (SELECT 1 FROM notify_outbox o WHERE o.channel = 'webhook' AND o.target_id = w.id)
         LIMIT ?)`,
    )
    .run(beforeMs, limit).changes;
  return { outbox, attempts, announcements, webhooks };
}
