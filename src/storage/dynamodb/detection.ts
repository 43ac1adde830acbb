import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Evidence, StateChange, StationState } from '../../detection/types.js';
import type { DetectedStateRow, StateChangeQuery, StoredStateChange } from '../types.js';
import { newGeneration, packCheckpoint, readCheckpoint, writeChunks } from './checkpoint.js';
import { isConditionFailed } from './connection.js';
import type { Ctx } from './context.js';
import { checkConsumer, checkOffset } from './event-log.js';
import {
  CHANGE_PK,
  changeIdKey,
  changeKey,
  changeUniqueKey,
  consumerKey,
  detectedPk,
  expiresAt,
  num16,
} from './keys.js';
import { batchWrite, queryAll, queryPages, type Item } from './requests.js';

type WithId = StoredStateChange;

function check(ok: boolean, c: StateChange, what: string): void {
  if (!ok)
    throw new Error(
      `invalid state change of station ${String(c.stationId)} at offset ${String(c.offset)}: ${what}`,
    );
}

function checkChange(c: StateChange): void {
  check(typeof c.system === 'string' && c.system !== '', c, 'system must be a non-empty string');
  check(typeof c.stationId === 'string' && c.stationId !== '', c, 'stationId must be a non-empty string');
  check(Number.isSafeInteger(c.timeSec), c, `timeSec must be an integer, got ${String(c.timeSec)}`);
  check(Number.isSafeInteger(c.offset) && c.offset >= 0, c, 'offset must be an integer >= 0');
  check(
    typeof c.confidence === 'number' && Number.isFinite(c.confidence),
    c,
    'confidence must be a finite number',
  );
  for (const s of [c.from, c.to, c.detector, c.reason])
    check(typeof s === 'string' && s !== '', c, 'from, to, detector, reason must be strings');
}

/** A state change item (partition SC), as written by commitDetection; null for any other item. */
export function stateChangeFromItem(item: Record<string, unknown>): StoredStateChange | null {
  if (item['pk'] !== CHANGE_PK) return null;
  const ev = item['ev'];
  return {
    id: item['id'] as number,
    system: item['sys'] as string,
    stationId: item['st'] as string,
    timeSec: item['t'] as number,
    from: item['from'] as StationState,
    to: item['to'] as StationState,
    detector: item['det'] as string,
    confidence: item['conf'] as number,
    reason: item['reason'] as string,
    evidence: typeof ev === 'string' ? (JSON.parse(ev) as Evidence) : null,
    offset: item['off'] as number,
  };
}

function changeItem(c: WithId, ttlDays: number): Item {
  return {
    ...changeKey(c.id),
    id: c.id,
    sys: c.system,
    st: c.stationId,
    t: c.timeSec,
    from: c.from,
    to: c.to,
    det: c.detector,
    conf: c.confidence,
    reason: c.reason,
    ev: c.evidence === null || c.evidence === undefined ? undefined : JSON.stringify(c.evidence),
    off: c.offset,
    expiresAt: expiresAt(ttlDays, c.timeSec),
  };
}

/**
 * Detector output. State changes live in one partition (SC, sort key = id): a few dozen a day,
 * listed newest first with filters — a Query backwards. Ids come from a counter item (UpdateItem
 * ADD), so they grow in commit order and are never reused. Idempotence by (system, station,
 * detector, offset, to): a key item per change, put with `attribute_not_exists` (or the same id,
 * when a crashed commit is redone).
 *
 * A commit is atomic by an intent, as in activity.ts: one UpdateItem of the consumer's item sets
 * its offset, its checkpoint's generation and the changes to write; the changes are then written
 * and the intent cleared. An intent left by a crash is finished before the consumer's next commit.
 * The checkpoint's chunks (checkpoint.ts) are written before that UpdateItem names them.
 */
export class DynamoDetection {
  private readonly clean = new Set<string>();

  constructor(private readonly ctx: Ctx) {}

  async commit(
    consumer: string,
    offset: number,
    changes: readonly StateChange[],
    checkpoint?: unknown,
  ): Promise<void> {
    checkConsumer(consumer);
    checkOffset(offset);
    for (const c of changes) checkChange(c);
    const chunks = checkpoint === undefined ? undefined : packCheckpoint(consumer, checkpoint);
    await this.finishPending(consumer);
    let withIds: WithId[] = [];
    if (changes.length > 0) {
      const res = await this.ctx.doc.send(
        new UpdateCommand({
          TableName: this.ctx.table,
          Key: changeIdKey,
          UpdateExpression: 'ADD n :k',
          ExpressionAttributeValues: { ':k': changes.length },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const base = (res.Attributes?.['n'] as number) - changes.length + 1;
      withIds = changes.map((c, i) => ({ ...c, id: base + i }));
    }
    const sets = ['o = :o'];
    const values: Record<string, unknown> = { ':o': offset };
    if (withIds.length > 0) {
      sets.push('detIntent = :i');
      values[':i'] = JSON.stringify(withIds);
    }
    let generation: number | undefined;
    if (chunks !== undefined) {
      // The state goes in items of its own, before the commit point names them: an offset update
      // then stays a write of a few bytes, and a crash until then leaves the old state named.
      generation = await newGeneration(this.ctx, consumer);
      await writeChunks(this.ctx, consumer, generation, chunks);
      sets.push('cko = :o', 'ckg = :g', 'ckn = :n');
      values[':g'] = generation;
      values[':n'] = chunks.length;
    }
    try {
      await this.ctx.doc.send(
        new UpdateCommand({
          TableName: this.ctx.table,
          Key: consumerKey(consumer),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ExpressionAttributeValues: values,
          // A slower process never names an older checkpoint over a newer one.
          ...(generation !== undefined
            ? { ConditionExpression: 'attribute_not_exists(ckg) OR ckg < :g' }
            : {}),
        }),
      );
    } catch (err) {
      if (generation === undefined || !isConditionFailed(err)) throw err;
      throw new Error(
        `checkpoint of ${consumer} at offset ${offset} not committed: another process committed a newer one`,
      );
    }
    if (withIds.length > 0) await this.apply(consumer, offset, withIds);
  }

  private async finishPending(consumer: string): Promise<void> {
    if (this.clean.has(consumer)) return;
    const item = (
      await this.ctx.doc.send(
        new GetCommand({
          TableName: this.ctx.table,
          Key: consumerKey(consumer),
          ConsistentRead: true,
          ProjectionExpression: 'o, detIntent',
        }),
      )
    ).Item;
    if (typeof item?.['detIntent'] === 'string') {
      await this.apply(consumer, item['o'] as number, JSON.parse(item['detIntent']) as WithId[]);
    } else {
      this.clean.add(consumer);
    }
  }

  private async apply(consumer: string, offset: number, changes: WithId[]): Promise<void> {
    for (const c of changes) {
      try {
        await this.ctx.doc.send(
          new PutCommand({
            TableName: this.ctx.table,
            Item: {
              ...changeUniqueKey(c.system, c.stationId, c.detector, c.offset, c.to),
              id: c.id,
              expiresAt: expiresAt(this.ctx.ttlDays, c.timeSec),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR id = :id',
            ExpressionAttributeValues: { ':id': c.id },
          }),
        );
      } catch (err) {
        if (isConditionFailed(err)) continue; // stored before, by an earlier commit
        throw err;
      }
      try {
        await this.ctx.doc.send(
          new PutCommand({
            TableName: this.ctx.table,
            Item: changeItem(c, this.ctx.ttlDays),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (err) {
        if (!isConditionFailed(err)) throw err; // written already by the commit being redone
      }
    }
    try {
      await this.ctx.doc.send(
        new UpdateCommand({
          TableName: this.ctx.table,
          Key: consumerKey(consumer),
          UpdateExpression: 'REMOVE detIntent',
          ConditionExpression: 'o = :o',
          ExpressionAttributeValues: { ':o': offset },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    this.clean.add(consumer);
  }

  async loadCheckpoint(consumer: string): Promise<{ offset: number; state: unknown } | null> {
    checkConsumer(consumer);
    return readCheckpoint(this.ctx, consumer);
  }

  async saveDetected(system: string, rows: readonly DetectedStateRow[]): Promise<void> {
    if (rows.length === 0) return;
    const byStation = new Map<string, DetectedStateRow>();
    for (const r of rows) {
      if (typeof r.stationId !== 'string' || r.stationId === '')
        throw new Error(`detected state: stationId must be a non-empty string, got ${String(r.stationId)}`);
      byStation.set(r.stationId, r);
    }
    await batchWrite(
      this.ctx.doc,
      this.ctx.table,
      [...byStation.values()].map((r) => ({
        PutRequest: {
          Item: {
            pk: detectedPk(system),
            sk: r.stationId,
            state: r.state,
            since: r.sinceSec,
            conf: r.confidence,
            det: r.detector,
          },
        },
      })),
    );
  }

  async listDetected(system: string): Promise<DetectedStateRow[]> {
    const items = await queryAll(this.ctx.doc, {
      TableName: this.ctx.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': detectedPk(system) },
      ConsistentRead: true,
    });
    return items.map((i) => ({
      stationId: i['sk'] as string,
      state: i['state'] as DetectedStateRow['state'],
      sinceSec: i['since'] as number,
      confidence: i['conf'] as number,
      detector: i['det'] as string,
    }));
  }

  /** Newest first; `state` matches the state changed to; sinceSec <= timeSec < untilSec. */
  async listChanges(q: StateChangeQuery): Promise<StoredStateChange[]> {
    if (!Number.isSafeInteger(q.limit) || q.limit < 0)
      throw new RangeError(`limit must be an integer >= 0, got ${q.limit}`);
    if (q.limit === 0) return [];
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': CHANGE_PK };
    const add = (attr: string, op: string, value: unknown): void => {
      const n = `#f${filters.length}`;
      const v = `:f${filters.length}`;
      names[n] = attr;
      values[v] = value;
      filters.push(`${n} ${op} ${v}`);
    };
    if (q.system !== undefined) add('sys', '=', q.system);
    if (q.stationId !== undefined) add('st', '=', q.stationId);
    if (q.state !== undefined) add('to', '=', q.state);
    if (q.sinceSec !== undefined) add('t', '>=', q.sinceSec);
    if (q.untilSec !== undefined) add('t', '<', q.untilSec);
    let keyCondition = 'pk = :pk';
    if (q.beforeId !== undefined) {
      if (!Number.isSafeInteger(q.beforeId) || q.beforeId < 1) return [];
      keyCondition += ' AND sk < :before';
      values[':before'] = num16(q.beforeId);
    }
    const out: StoredStateChange[] = [];
    await queryPages(
      this.ctx.doc,
      {
        TableName: this.ctx.table,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeValues: values,
        ...(filters.length > 0
          ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names }
          : { Limit: q.limit }),
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      (items) => {
        for (const item of items) {
          out.push(stateChangeFromItem(item)!);
          if (out.length === q.limit) return false;
        }
        return true;
      },
    );
    return out;
  }
}
