import type Database from 'better-sqlite3';
import type { FeedEvent, LoggedEvent } from '../../events/types.js';
import type { EventLog } from '../types.js';
import { ByteReader, ByteWriter } from '../codec/bytes.js';
import { decodeEvent, decoded, encodeEvent, InvalidEventError, kindOf, withOffset } from '../codec/events.js';
import { settle, type SqliteContext } from './context.js';

export function checkOffset(offset: number, what = 'offset'): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new RangeError(`${what} must be an integer >= 0, got ${offset}`);
}

type BatchRow = [number, number, number, number, Uint8Array];
/** Batches fetched per query while reading: enough for a page, without loading a whole day for limit=10. */
const BATCHES_PER_QUERY = 64;
const noStationKey = (): string => '';

/**
 * The log in `event_batches` (see migrations/001_event_log.ts): one row per run of events of one
 * system at one document time. Offsets are gapless: assigned as max + 1 inside the write
 * transaction, never for a skipped duplicate, and prune() always keeps the newest batch so the
 * maximum never goes back.
 */
export class SqliteEventLog implements EventLog {
  private readonly insertBatch: Database.Statement;
  private readonly selectNext: Database.Statement;
  private readonly selectAt: Database.Statement;
  private readonly selectStart: Database.Statement;
  private readonly selectFrom: Database.Statement;
  private readonly selectConsumer: Database.Statement;
  private readonly upsertConsumer: Database.Statement;
  private readonly writer = new ByteWriter();

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.insertBatch = db.prepare(
      'INSERT INTO event_batches (first_offset, event_count, system_id, time_sec, events) VALUES (?, ?, ?, ?, ?)',
    );
    this.selectNext = db
      .prepare('SELECT first_offset + event_count FROM event_batches ORDER BY first_offset DESC LIMIT 1')
      .pluck();
    this.selectAt = db
      .prepare('SELECT events FROM event_batches WHERE system_id = ? AND time_sec = ?')
      .pluck();
    this.selectStart = db
      .prepare('SELECT max(first_offset) FROM event_batches WHERE first_offset <= ?')
      .pluck();
    this.selectFrom = db
      .prepare(
        `SELECT first_offset, event_count, system_id, time_sec, events FROM event_batches
         WHERE first_offset >= ? ORDER BY first_offset LIMIT ${BATCHES_PER_QUERY}`,
      )
      .raw();
    this.selectConsumer = db.prepare('SELECT log_offset FROM consumer_offsets WHERE consumer = ?').pluck();
    this.upsertConsumer = db.prepare(
      'INSERT INTO consumer_offsets (consumer, log_offset) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET log_offset = excluded.log_offset',
    );
  }

  nextOffsetSync(): number {
    return (this.selectNext.get() as number | undefined) ?? 1;
  }

  /** Keys (station id × 64 + kind) of the events already stored for one system at one time. */
  private storedKeys(systemId: number, timeSec: number): Set<number> {
    const keys = new Set<number>();
    for (const blob of this.selectAt.all(systemId, timeSec) as Uint8Array[]) {
      const r = new ByteReader(blob);
      while (!r.done) {
        decodeEvent(r, '', timeSec, 0, noStationKey);
        keys.add(decoded.key);
      }
    }
    return keys;
  }

  /**
   * Append inside the caller's write transaction; an invalid event throws and so rolls it back.
   * Each run of consecutive events with the same system and time becomes one batch row.
   */
  appendInTx(events: readonly FeedEvent[]): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    if (events.length === 0) return out;
    const dict = this.ctx.dict;
    const w = this.writer;
    let next = this.nextOffsetSync();
    // Keys seen per (system, time) in this call: a time may come back in a later run of the batch.
    const seen = new Map<string, Set<number>>();
    let i = 0;
    while (i < events.length) {
      const head = events[i]!;
      const system = head.system;
      const timeSec = head.timeSec;
      if (!Number.isSafeInteger(timeSec)) {
        throw new InvalidEventError(
          `invalid ${String(head.type)} event: timeSec must be an integer, got ${String(timeSec)}`,
        );
      }
      const systemId = dict.systemId(system);
      const runKey = `${systemId}:${timeSec}`;
      let keys = seen.get(runKey);
      if (keys === undefined) {
        keys = this.storedKeys(systemId, timeSec);
        seen.set(runKey, keys);
      }
      const first = next;
      w.reset();
      for (; i < events.length; i++) {
        const e = events[i]!;
        if (e.system !== system || e.timeSec !== timeSec) break;
        const kind = kindOf(e);
        const station = 'stationId' in e ? dict.stationId(systemId, e.stationId) : 0;
        const key = station * 64 + kind;
        if (keys.has(key)) continue;
        keys.add(key);
        encodeEvent(e, kind, station, w);
        out.push(withOffset(e, next++));
      }
      if (next > first) this.insertBatch.run(first, next - first, systemId, timeSec, w.view());
    }
    return out;
  }

  append(events: FeedEvent[]): Promise<LoggedEvent[]> {
    if (events.length === 0) return Promise.resolve([]);
    return settle(() => this.ctx.write(() => this.appendInTx(events)));
  }

  readSync(afterOffset: number, limit: number): LoggedEvent[] {
    checkOffset(afterOffset, 'afterOffset');
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
    const out: LoggedEvent[] = [];
    if (limit === 0) return out;
    const dict = this.ctx.dict;
    const stationKey = (id: number): string => dict.stationKey(id);
    let from = (this.selectStart.get(afterOffset + 1) as number | null) ?? 0;
    for (;;) {
      const rows = this.selectFrom.all(from) as BatchRow[];
      for (const [first, count, systemId, timeSec, blob] of rows) {
        if (first + count - 1 <= afterOffset) continue;
        const system = dict.systemKey(systemId);
        const r = new ByteReader(blob);
        for (let k = 0; k < count; k++) {
          const e = decodeEvent(r, system, timeSec, first + k, stationKey);
          if (e.offset <= afterOffset) continue;
          out.push(e);
          if (out.length === limit) return out;
        }
      }
      if (rows.length < BATCHES_PER_QUERY) return out;
      from = rows[rows.length - 1]![0] + 1;
    }
  }

  read(afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    return settle(() => this.readSync(afterOffset, limit));
  }

  lastOffset(): Promise<number> {
    return settle(() => this.nextOffsetSync() - 1);
  }

  consumerOffset(consumer: string): Promise<number> {
    return settle(() => (this.selectConsumer.get(consumer) as number | undefined) ?? 0);
  }

  /** Move a consumer's offset inside the caller's write transaction. */
  setOffsetInTx(consumer: string, offset: number): void {
    if (typeof consumer !== 'string' || consumer === '')
      throw new Error(`consumer must be a non-empty string, got ${String(consumer)}`);
    checkOffset(offset);
    this.upsertConsumer.run(consumer, offset);
  }

  commitOffset(consumer: string, offset: number): Promise<void> {
    return settle(() => this.ctx.write(() => this.setOffsetInTx(consumer, offset)));
  }
}
