/**
 * The retention job of the notification tables: deletes, batch after batch, what is older than
 * the retention (rules in sqlite-retention.ts) and counts it in dockwatch_notify_pruned_total.
 * Each batch is its own short transaction, and the job yields between batches: the pipeline,
 * on the same file and the same thread, never waits behind one long delete.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../log/index.js';
import { notifyMetrics } from './metrics.js';
import type { NotifyStore, PruneCounts } from './types.js';

export const DAY_MS = 86_400_000;
/** Rows per transaction: a few milliseconds of write lock each. */
export const PRUNE_BATCH = 1000;

export interface PruneOptions {
  notifyStore: NotifyStore;
  retentionDays: number;
  nowMs?: number;
  batchSize?: number;
  logger?: Logger;
}

export async function pruneNotifications(opts: PruneOptions): Promise<PruneCounts> {
  const beforeMs = (opts.nowMs ?? Date.now()) - opts.retentionDays * DAY_MS;
  const batch = opts.batchSize ?? PRUNE_BATCH;
  const total: PruneCounts = { outbox: 0, attempts: 0, announcements: 0, webhooks: 0 };
  for (;;) {
    const counts = await opts.notifyStore.pruneBatch(beforeMs, batch);
    for (const table of Object.keys(total) as (keyof PruneCounts)[]) {
      total[table] += counts[table];
      if (counts[table] > 0) notifyMetrics.pruned.inc({ table }, counts[table]);
    }
    const full = counts.outbox === batch || counts.announcements === batch || counts.webhooks === batch;
    if (!full) break;
    await yieldToLoop();
  }
  if (total.outbox + total.announcements + total.webhooks > 0) {
    opts.logger?.info({ ...total, retentionDays: opts.retentionDays }, 'notify retention: old rows deleted');
  }
  return total;
}
