import { stmt, type Tx } from './context.js';
import type { PgEventLog } from './event-log.js';

export interface PruneLimits {
  eventsBeforeSec: number;
  stateChangesBeforeSec: number;
  activityBeforeDay: number;
}

const selectBound = stmt(
  'prune_bound',
  'SELECT min(o) FROM (SELECT log_offset AS o FROM consumer_offsets UNION ALL SELECT log_offset FROM checkpoints) AS c',
);
// Whole batches only, never the newest one (the contract keeps it, as the SQLite store must).
const deleteEvents = stmt(
  'prune_events',
  `WITH d AS (
     DELETE FROM event_batches WHERE time_sec < $1 AND first_offset + event_count - 1 <= $2
       AND first_offset < (SELECT max(first_offset) FROM event_batches)
     RETURNING event_count
   )
   SELECT coalesce(sum(event_count), 0)::bigint FROM d`,
);
const deleteChanges = stmt('prune_changes', 'DELETE FROM state_changes WHERE time_sec < $1');
// Per system: the activity key leads with (system, day), so each delete is an index range, not a scan.
const deleteActivity = stmt(
  'prune_activity',
  'DELETE FROM activity AS a USING systems AS s WHERE a.system_id = s.id AND a.day < $1',
);

/**
 * Retention, in the caller's transaction. Events go only when older than the limit AND every
 * consumer is past them: the bound is the lowest committed offset and the lowest checkpoint (a
 * detector restarts from its checkpoint, so it still needs the events after it). The log head is
 * locked first, so no append runs meanwhile (it would be the newest batch).
 */
export async function prune(
  tx: Tx,
  log: PgEventLog,
  limits: PruneLimits,
): Promise<{ events: number; changes: number; activity: number; offsetBound: number }> {
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`prune: ${name} must be an integer, got ${String(v)}`);
  }
  const last = (await log.lockHead(tx)) - 1;
  const consumers = (await tx.rows<[number | null]>(selectBound))[0]![0];
  const offsetBound = Math.min(consumers ?? last, last);
  const events = (await tx.rows<[number]>(deleteEvents, [limits.eventsBeforeSec, offsetBound]))[0]![0];
  const changes = await tx.run(deleteChanges, [limits.stateChangesBeforeSec]);
  const activity = await tx.run(deleteActivity, [limits.activityBeforeDay]);
  return { events, changes, activity, offsetBound };
}
