import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FeedEvent, LoggedEvent } from '../../events/types.js';
import {
  ByteReader,
  ByteWriter,
  decodeEvent,
  encodeEvent,
  InvalidEventError,
  kindOf,
  withOffset,
} from '../codec/index.js';
import type { EventLog } from '../types.js';
import { isConditionFailed } from './connection.js';
import type { Ctx } from './context.js';
import { consumerKey, expiresAt, hintKey, LOG_PK, logHeadKey, logKey, offsetOfLogSk } from './keys.js';
import { batchGet, bytesOf, ITEM_PAYLOAD_MAX, queryPages, type Item } from './requests.js';
import { StationTable } from './station-table.js';

export function checkOffset(offset: number, what = 'offset'): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new RangeError(`${what} must be an integer >= 0, got ${offset}`);
}

export function checkConsumer(consumer: string): void {
  if (typeof consumer !== 'string' || consumer === '')
    throw new Error(`consumer must be a non-empty string, got ${String(consumer)}`);
}

/** Appends lost to a concurrent writer are retried this many times (each retry re-reads the head). */
const APPEND_ATTEMPTS = 20;

interface Pending {
  e: FeedEvent;
  kind: number;
  /** Station id and kind: the event's key within its (system, time). */
  key: string;
}

interface Run {
  system: string;
  timeSec: number;
  events: Pending[];
}

/** A log item's events, decoded. */
export function decodeLogItem(item: Item): LoggedEvent[] {
  const first = offsetOfLogSk(item['sk'] as string);
  const n = item['n'] as number;
  const r = new ByteReader(bytesOf(item['ev']));
  const table = StationTable.read(r);
  const key = (id: number): string => table.stationKey(id);
  const out: LoggedEvent[] = [];
  for (let k = 0; k < n; k++)
    out.push(decodeEvent(r, item['sys'] as string, item['t'] as number, first + k, key));
  return out;
}

/**
 * The log as items of partition LOG, one per run of events of one system at one document time,
 * sort key = first offset, events packed with the shared codec (../codec/) behind the item's own
 * station table.
 *
 * Offsets without a counter and without a transaction: an append reads the newest item (its first
 * offset + count is the next offset) and puts its item there with `attribute_not_exists` — two
 * writers that read the same head race for the same key, the loser re-reads and retries. An item
 * at offset n is thus only written after the item ending at n - 1 is stored: offsets are gapless,
 * and a strongly consistent reader that sees n sees everything before it.
 *
 * Idempotence by event key without a secondary index: before its item, an append adds the offset
 * it is about to take to the hint item of its (system, time), and the same UpdateItem returns the
 * offsets hinted before. Those items (if they exist: a lost race leaves a stale hint, harmless)
 * hold every event already stored at that (system, time). Order matters: head, hints, put — a
 * writer B that races a writer A either reads A's item through A's hint or collides with it.
 */
export class DynamoEventLog implements EventLog {
  private readonly scratch = new ByteWriter();
  private readonly body = new ByteWriter();
  private readonly head = new ByteWriter();
  /**
   * The next offset as this process last wrote it. Trusting it spares the head Query of each
   * append: if another writer took it meanwhile, the conditional put fails and the head is read
   * again; if not, every item below it existed (with its hints) before this append's hint read.
   */
  private knownNext: number | undefined;

  constructor(private readonly ctx: Ctx) {}

  /** Validate every event and cut the call into runs; throws before anything is written. */
  private plan(events: readonly FeedEvent[]): Run[] {
    const runs: Run[] = [];
    let run: Run | undefined;
    for (const e of events) {
      if (!Number.isSafeInteger(e.timeSec))
        throw new InvalidEventError(
          `invalid ${String(e.type)} event: timeSec must be an integer, got ${String(e.timeSec)}`,
        );
      if (typeof e.system !== 'string' || e.system === '')
        throw new InvalidEventError(`invalid ${String(e.type)} event: system must be a non-empty string`);
      const kind = kindOf(e);
      const station = 'stationId' in e ? e.stationId : '';
      if ('stationId' in e && (typeof station !== 'string' || station === ''))
        throw new InvalidEventError(
          `invalid ${e.type} event at ${e.timeSec}: stationId must be a non-empty string`,
        );
      this.scratch.reset();
      encodeEvent(e, kind, 1, this.scratch); // validates every value
      if (run === undefined || run.system !== e.system || run.timeSec !== e.timeSec) {
        run = { system: e.system, timeSec: e.timeSec, events: [] };
        runs.push(run);
      }
      run.events.push({ e, kind, key: `${station}\u0000${kind}` });
    }
    return runs;
  }

  async append(events: FeedEvent[]): Promise<LoggedEvent[]> {
    if (events.length === 0) return [];
    const out: LoggedEvent[] = [];
    for (const run of this.plan(events)) out.push(...(await this.appendRun(run)));
    return out;
  }

  /** Next offset to take: after the newest item; when none is left, what prune recorded. */
  async nextOffset(): Promise<number> {
    const res = await this.ctx.doc.send(
      new QueryCommand({
        TableName: this.ctx.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': LOG_PK },
        ProjectionExpression: 'sk, #n',
        ExpressionAttributeNames: { '#n': 'n' },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const newest = res.Items?.[0];
    if (newest !== undefined) return offsetOfLogSk(newest['sk'] as string) + (newest['n'] as number);
    const head = await this.ctx.doc.send(
      new GetCommand({ TableName: this.ctx.table, Key: logHeadKey, ConsistentRead: true }),
    );
    return (head.Item?.['next'] as number | undefined) ?? 1;
  }

  /** Keys of the events stored at (system, time), read through the hints; adds `next` to them. */
  private async storedKeys(run: Run, next: number): Promise<Set<string>> {
    const expires = expiresAt(this.ctx.ttlDays, run.timeSec);
    const res = await this.ctx.doc.send(
      new UpdateCommand({
        TableName: this.ctx.table,
        Key: hintKey(run.system, run.timeSec),
        UpdateExpression: expires === undefined ? 'ADD offs :o' : 'ADD offs :o SET expiresAt = :x',
        ExpressionAttributeValues: {
          ':o': new Set([next]),
          ...(expires === undefined ? {} : { ':x': expires }),
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    const keys = new Set<string>();
    const hinted = res.Attributes?.['offs'] as Set<number> | undefined;
    if (hinted === undefined || hinted.size === 0) return keys;
    const items = await batchGet(
      this.ctx.doc,
      this.ctx.table,
      [...hinted].map((o) => logKey(o)),
    );
    for (const item of items) {
      if (item['sys'] !== run.system || item['t'] !== run.timeSec) continue;
      for (const e of decodeLogItem(item))
        keys.add(`${'stationId' in e ? e.stationId : ''}\u0000${kindOf(e)}`);
    }
    return keys;
  }

  private async appendRun(run: Run): Promise<LoggedEvent[]> {
    const out: LoggedEvent[] = [];
    let rest = run.events;
    for (let attempt = 0; rest.length > 0; attempt++) {
      if (attempt >= APPEND_ATTEMPTS)
        throw new Error(`append: lost the race for the log head ${APPEND_ATTEMPTS} times in a row`);
      const next = this.knownNext ?? (await this.nextOffset());
      this.knownNext = undefined;
      const stored = await this.storedKeys(run, next);
      // Pack the new events, up to what one item holds (the rest goes to the next item).
      const table = new StationTable();
      const fresh: LoggedEvent[] = [];
      this.body.reset();
      let tableBytes = 4;
      let taken = 0;
      for (; taken < rest.length; taken++) {
        const p = rest[taken]!;
        if (stored.has(p.key)) continue;
        const station = 'stationId' in p.e ? p.e.stationId : '';
        if (this.body.pos + tableBytes + station.length * 3 + 64 > ITEM_PAYLOAD_MAX && fresh.length > 0)
          break;
        stored.add(p.key);
        const before = table.keys.length;
        encodeEvent(p.e, p.kind, station === '' ? 0 : table.add(station), this.body);
        if (table.keys.length > before) tableBytes += Buffer.byteLength(station) + 2;
        fresh.push(withOffset(p.e, next + fresh.length));
      }
      if (fresh.length === 0) return out;
      this.head.reset();
      table.write(this.head);
      const ev = Buffer.concat([this.head.view(), this.body.view()]);
      try {
        await this.ctx.doc.send(
          new PutCommand({
            TableName: this.ctx.table,
            Item: {
              ...logKey(next),
              n: fresh.length,
              sys: run.system,
              t: run.timeSec,
              ev,
              expiresAt: expiresAt(this.ctx.ttlDays, run.timeSec),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (err) {
        if (isConditionFailed(err)) continue; // another writer took `next`: read the head again
        throw err;
      }
      this.knownNext = next + fresh.length;
      out.push(...fresh);
      rest = rest.slice(taken);
      attempt = -1;
    }
    return out;
  }

  async read(afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    checkOffset(afterOffset, 'afterOffset');
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
    if (limit === 0) return [];
    const out: LoggedEvent[] = [];
    const take = (item: Item): boolean => {
      for (const e of decodeLogItem(item)) {
        if (e.offset <= afterOffset) continue;
        out.push(e);
        if (out.length === limit) return false;
      }
      return true;
    };
    // The item holding afterOffset + 1 is the newest one starting at or before it (one item read),
    // then the items after it, in order.
    const res = await this.ctx.doc.send(
      new QueryCommand({
        TableName: this.ctx.table,
        KeyConditionExpression: 'pk = :pk AND sk <= :at',
        ExpressionAttributeValues: { ':pk': LOG_PK, ':at': logKey(afterOffset + 1).sk },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const holder = res.Items?.[0];
    if (holder !== undefined && !take(holder)) return out;
    await queryPages(
      this.ctx.doc,
      {
        TableName: this.ctx.table,
        KeyConditionExpression: 'pk = :pk AND sk > :after',
        // 'o' sorts before every offset key: without a holder (pruned log), from the oldest item.
        ExpressionAttributeValues: { ':pk': LOG_PK, ':after': (holder?.['sk'] as string | undefined) ?? 'o' },
        ConsistentRead: true,
        Limit: Math.min(limit + 1, 100),
      },
      (items) => {
        for (const item of items) if (!take(item)) return false;
        return true;
      },
    );
    return out;
  }

  async lastOffset(): Promise<number> {
    return (await this.nextOffset()) - 1;
  }

  async consumerOffset(consumer: string): Promise<number> {
    checkConsumer(consumer);
    const res = await this.ctx.doc.send(
      new GetCommand({
        TableName: this.ctx.table,
        Key: consumerKey(consumer),
        ConsistentRead: true,
        ProjectionExpression: 'o',
      }),
    );
    return (res.Item?.['o'] as number | undefined) ?? 0;
  }

  async commitOffset(consumer: string, offset: number): Promise<void> {
    checkConsumer(consumer);
    checkOffset(offset);
    await this.ctx.doc.send(
      new UpdateCommand({
        TableName: this.ctx.table,
        Key: consumerKey(consumer),
        UpdateExpression: 'SET o = :o',
        ExpressionAttributeValues: { ':o': offset },
      }),
    );
  }
}
