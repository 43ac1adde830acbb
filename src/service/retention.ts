/**
 * Retention of the store, one rule for every deployment (`watch`, `collect`, the scheduled
 * function): events and state changes older than `retentionDays` go; activity counts are kept at
 * least four weeks whatever the setting, because the detectors compare with the same weekday up
 * to three weeks back (docs/detection.md).
 */
import type { Logger } from '../log/index.js';
import type { Store } from '../storage/index.js';

const DAY_SEC = 86_400;
/** Three weeks back plus the day itself and a margin of a week. */
export const MIN_ACTIVITY_DAYS = 29;
/** How often a long-running process prunes. */
export const RETENTION_EVERY_MS = 3_600_000;

export interface RetentionCutoffs {
  eventsBeforeSec: number;
  stateChangesBeforeSec: number;
  activityBeforeDay: number;
}

export function retentionCutoffs(nowSec: number, retentionDays: number): RetentionCutoffs {
  const keepSec = retentionDays * DAY_SEC;
  return {
    eventsBeforeSec: nowSec - keepSec,
    stateChangesBeforeSec: nowSec - keepSec,
    activityBeforeDay: Math.floor(nowSec / DAY_SEC) - Math.max(retentionDays, MIN_ACTIVITY_DAYS),
  };
}

/**
 * Prunes once; a failure is handed to `onError` (the caller counts it) and never thrown: the
 * next run tries again. Returns the rows deleted (0 after a failure).
 */
export async function pruneStore(
  store: Store,
  opts: { nowSec: number; retentionDays: number; logger: Logger; onError: (err: unknown) => void },
): Promise<number> {
  try {
    const deleted = await store.prune(retentionCutoffs(opts.nowSec, opts.retentionDays));
    if (deleted > 0) opts.logger.info({ deleted }, 'retention: old rows deleted');
    return deleted;
  } catch (err) {
    opts.onError(err);
    return 0;
  }
}
