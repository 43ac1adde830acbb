import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from './connection.js';
import type { Ctx } from './context.js';
import type { DynamoActivity } from './activity.js';
import type { DynamoEventLog } from './event-log.js';
import {
  CHANGE_PK,
  changeUniqueKey,
  CONSUMER_PK,
  LOG_PK,
  logHeadKey,
  logKey,
  META_PK,
  offsetOfLogSk,
  type Key,
} from './keys.js';
import { batchWrite, queryAll, type WriteRequest } from './requests.js';

export interface PruneLimits {
  eventsBeforeSec: number;
  stateChangesBeforeSec: number;
  activityBeforeDay: number;
}

const del = (key: Key): WriteRequest => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } });

/**
 * Retention on demand, as the contract wants it (TTL deletes the same items by time alone, within
 * ~2 days, for free; this is exact and bounded by the consumers). Queries only: the log below the
 * lowest consumer offset / checkpoint, the state changes (one small partition), the activity of
 * each system that has some. The log head is recorded first (META loghead), so offsets go on
 * after the log is emptied by prune or by TTL.
 */
export async function prune(
  ctx: Ctx,
  log: DynamoEventLog,
  act: DynamoActivity,
  limits: PruneLimits,
): Promise<{ events: number; changes: number; activity: number; offsetBound: number }> {
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`prune: ${name} must be an integer, got ${String(v)}`);
  }
  const next = await log.nextOffset();
  try {
    await ctx.doc.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: logHeadKey,
        UpdateExpression: 'SET #next = :n',
        ConditionExpression: 'attribute_not_exists(#next) OR #next < :n',
        ExpressionAttributeNames: { '#next': 'next' },
        ExpressionAttributeValues: { ':n': next },
      }),
    );
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
  }
  const last = next - 1;
  let bound = last;
  for (const c of await queryAll(ctx.doc, {
    TableName: ctx.table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': CONSUMER_PK },
    ProjectionExpression: 'o, cko',
    ConsistentRead: true,
  })) {
    for (const v of [c['o'], c['cko']]) if (typeof v === 'number') bound = Math.min(bound, v);
  }

  // Whole items only, never the newest one.
  const logItems = await queryAll(ctx.doc, {
    TableName: ctx.table,
    KeyConditionExpression: 'pk = :pk AND sk <= :to',
    ExpressionAttributeValues: { ':pk': LOG_PK, ':to': logKey(Math.max(bound, 0)).sk },
    ProjectionExpression: 'sk, #n, t',
    ExpressionAttributeNames: { '#n': 'n' },
    ConsistentRead: true,
  });
  const deletes: WriteRequest[] = [];
  let events = 0;
  for (const item of logItems) {
    const first = offsetOfLogSk(item['sk'] as string);
    const n = item['n'] as number;
    if (first + n - 1 > bound || first + n === next || (item['t'] as number) >= limits.eventsBeforeSec)
      continue;
    deletes.push(del({ pk: LOG_PK, sk: item['sk'] as string }));
    events += n;
  }

  const changes = await queryAll(ctx.doc, {
    TableName: ctx.table,
    KeyConditionExpression: 'pk = :pk',
    FilterExpression: 't < :cut',
    ExpressionAttributeValues: { ':pk': CHANGE_PK, ':cut': limits.stateChangesBeforeSec },
    ProjectionExpression: 'pk, sk, sys, st, det, off, #to',
    ExpressionAttributeNames: { '#to': 'to' },
    ConsistentRead: true,
  });
  for (const c of changes) {
    deletes.push(del({ pk: CHANGE_PK, sk: c['sk'] as string }));
    deletes.push(
      del(
        changeUniqueKey(
          c['sys'] as string,
          c['st'] as string,
          c['det'] as string,
          c['off'] as number,
          c['to'] as string,
        ),
      ),
    );
  }

  let activity = 0;
  const systems = await queryAll(ctx.doc, {
    TableName: ctx.table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :act)',
    ExpressionAttributeValues: { ':pk': META_PK, ':act': 'act#' },
    ConsistentRead: true,
  });
  await batchWrite(ctx.doc, ctx.table, deletes);
  for (const s of systems)
    activity += await act.prune((s['sk'] as string).slice('act#'.length), limits.activityBeforeDay);
  return { events, changes: changes.length, activity, offsetBound: bound };
}
