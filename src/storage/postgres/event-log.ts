import type { FeedEvent, LoggedEvent } from '../../events/types.js';
import type { EventLog } from '../types.js';
// The packed event format is shared by every backend, byte for byte (src/storage/codec/).
import { ByteReader, ByteWriter } from '../codec/bytes.js';
import { decodeEvent, decoded, encodeEvent, InvalidEventError, kindOf, withOffset } from '../codec/events.js';
import { stmt, type Db, type PgContext, type Tx } from './context.js';
import type { PgDictionary } from './dictionary.js';

export function checkOffset(offset: number, what = 'offset'): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new RangeError(`${what} must be an integer >= 0, got ${offset}`);
}

type BatchRow = [number, number, number, number, Buffer];
/** Batches fetched per query while reading, at most (a page of `limit` events needs <= limit + 1). */
const BATCHES_PER_QUERY = 64;
const noStationKey = (): string => '';

const lockHead = stmt('log_lock_head', 'SELECT next_offset FROM log_head FOR UPDATE');
const selectHead = stmt('log_select_head', 'SELECT next_offset FROM log_head');
/** The batches and the counter in one statement (data-modifying CTE); parameters $1…$6 = BatchParams. */
export const INSERT_BATCHES_CTE = `b AS (
     INSERT INTO event_batches (first_offset, event_count, system_id, time_sec, events)
     SELECT * FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::bigint[], $5::bytea[])
   ), h AS (
     UPDATE log_head SET next_offset = $6 WHERE next_offset <> $6
   )`;
const insertBatches = stmt('log_insert_batches', `WITH ${INSERT_BATCHES_CTE} SELECT 1`);

/** first offsets, counts, system ids, times, packed events, next offset. */
export type BatchParams = [number[], number[], number[], number[], Buffer[], number];
const selectFrom = stmt(
  'log_select_from',
  `SELECT first_offset, event_count, system_id, time_sec, events FROM event_batches
   WHERE first_offset >= coalesce((SELECT max(first_offset) FROM event_batches WHERE first_offset <= $1), 0)
   ORDER BY first_offset LIMIT $2`,
);
const selectAfter = stmt(
  'log_select_after',
  `SELECT first_offset, event_count, system_id, time_sec, events FROM event_batches
   WHERE first_offset > $1 ORDER BY first_offset LIMIT $2`,
);
const selectConsumer = stmt(
  'log_select_consumer',
  'SELECT log_offset FROM consumer_offsets WHERE consumer = $1',
);
const upsertConsumer = stmt(
  'log_upsert_consumer',
  `INSERT INTO consumer_offsets (consumer, log_offset) VALUES ($1, $2)
   ON CONFLICT (consumer) DO UPDATE SET log_offset = excluded.log_offset`,
);

/**
 * The log in `event_batches` (see migrations/001_event_log.ts): one row per run of events of one
 * system at one document time, packed as in the SQLite store. Offsets come from the `log_head`
 * row, locked by each append until its transaction ends: gapless, and visible in offset order.
 * Duplicates are found, under that lock, by decoding the batches already stored at the same
 * (system, time): the key of an event within them is (station id, kind).
 */
export class PgEventLog implements EventLog {
  private readonly writer = new ByteWriter();

  constructor(
    private readonly ctx: PgContext,
    private readonly dict: PgDictionary,
  ) {}

  /** Lock the head (prune starts here too). Returns the next offset. */
  async lockHead(tx: Tx): Promise<number> {
    return (await tx.rows<[number]>(lockHead))[0]![0];
  }

  /**
   * The first step of an append, inside the caller's transaction: lock the head, learn the keys
   * already stored at each (system, time) of the call — both in one round trip — and pack the
   * new events. Each run of consecutive events with the same system and time becomes one batch.
   * Returns the events to append, with their offsets, and the parameters of the statement that
   * writes them (INSERT_BATCHES_CTE), to run alone or joined with the caller's own statement.
   * An invalid event throws (the caller's transaction then rolls back).
   */
  async prepareAppend(
    tx: Tx,
    events: readonly FeedEvent[],
  ): Promise<{ out: LoggedEvent[]; params: BatchParams }> {
    const out: LoggedEvent[] = [];
    const stationsBySystem = new Map<string, Set<string>>();
    for (const e of events) {
      if (!Number.isSafeInteger(e.timeSec)) {
        throw new InvalidEventError(
          `invalid ${String(e.type)} event: timeSec must be an integer, got ${String(e.timeSec)}`,
        );
      }
      let stations = stationsBySystem.get(e.system);
      if (stations === undefined) stationsBySystem.set(e.system, (stations = new Set()));
      if ('stationId' in e) stations.add(e.stationId);
    }
    // Ids first (a statement only for a new system, or a system with new stations: rare).
    const systemIds = new Map<string, number>();
    for (const [system, stations] of stationsBySystem) {
      const systemId = await this.dict.systemId(system);
      systemIds.set(system, systemId);
      await this.dict.resolveStations(tx, systemId, stations);
    }
    const runs = new Map<string, Set<number>>();
    const pairs: string[] = [];
    for (const e of events) {
      const systemId = systemIds.get(e.system)!;
      const runKey = `${systemId}:${e.timeSec}`;
      if (runs.has(runKey)) continue;
      runs.set(runKey, new Set());
      pairs.push(`(${systemId}, ${e.timeSec})`); // integers only: validated above
    }
    // One message: lock, then (a new snapshot, after the lock is granted) the stored keys.
    const [headRows, stored] = await tx.simple(
      `SELECT next_offset FROM log_head FOR UPDATE;
       SELECT system_id, time_sec, events FROM event_batches WHERE (system_id, time_sec) IN (${pairs.length > 0 ? pairs.join(', ') : '(0, 0)'})`,
    );
    let next = (headRows![0] as [number])[0];
    for (const [systemId, timeSec, blob] of stored as [number, number, Buffer][]) {
      const keys = runs.get(`${systemId}:${timeSec}`)!;
      const r = new ByteReader(blob);
      while (!r.done) {
        decodeEvent(r, '', timeSec, 0, noStationKey);
        keys.add(decoded.key);
      }
    }

    const params: BatchParams = [[], [], [], [], [], next];
    const w = this.writer;
    let i = 0;
    while (i < events.length) {
      const head = events[i]!;
      const system = head.system;
      const timeSec = head.timeSec;
      const systemId = systemIds.get(system)!;
      const keys = runs.get(`${systemId}:${timeSec}`)!;
      const first = next;
      w.reset();
      for (; i < events.length; i++) {
        const e = events[i]!;
        if (e.system !== system || e.timeSec !== timeSec) break;
        const kind = kindOf(e);
        const station = 'stationId' in e ? this.dict.stationId(systemId, e.stationId) : 0;
        const key = station * 64 + kind;
        if (keys.has(key)) continue;
        keys.add(key);
        encodeEvent(e, kind, station, w);
        out.push(withOffset(e, next++));
      }
      if (next === first) continue;
      params[0].push(first);
      params[1].push(next - first);
      params[2].push(systemId);
      params[3].push(timeSec);
      params[4].push(Buffer.from(w.view()));
    }
    params[5] = next;
    return { out, params };
  }

  async appendInTx(tx: Tx, events: readonly FeedEvent[]): Promise<LoggedEvent[]> {
    if (events.length === 0) return [];
    const { out, params } = await this.prepareAppend(tx, events);
    if (out.length > 0) await tx.run(insertBatches, params);
    return out;
  }

  append(events: FeedEvent[]): Promise<LoggedEvent[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.ctx.write((tx) => this.appendInTx(tx, events));
  }

  async read(afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    checkOffset(afterOffset, 'afterOffset');
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
    if (limit === 0) return [];
    return this.ctx.read((db) => this.readFrom(db, afterOffset, limit));
  }

  private async readFrom(db: Db, afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    const out: LoggedEvent[] = [];
    const perQuery = Math.min(BATCHES_PER_QUERY, limit + 1);
    let rows = await db.rows<BatchRow>(selectFrom, [afterOffset, perQuery]);
    for (;;) {
      if (!this.decodeRows(db, rows, afterOffset, limit, out)) {
        // Ids written by another process since this one cached them: fetch their keys, decode again.
        await this.learnIds(db, rows);
        this.decodeRows(db, rows, afterOffset, limit, out);
      }
      if (out.length === limit || rows.length < perQuery) return out;
      rows = await db.rows<BatchRow>(selectAfter, [rows[rows.length - 1]![0], perQuery]);
    }
  }

  /** Decode into `out` (up to `limit`); false when an id is unknown to this process. */
  private decodeRows(
    db: Db,
    rows: readonly BatchRow[],
    afterOffset: number,
    limit: number,
    out: LoggedEvent[],
  ): boolean {
    const start = out.length;
    let unknown = false;
    const stationKey = (id: number): string => {
      const key = this.dict.peekStationKey(id);
      if (key !== undefined) return key;
      unknown = true;
      return '';
    };
    for (const [first, count, systemId, timeSec, blob] of rows) {
      if (first + count - 1 <= afterOffset) continue;
      const system = this.dict.peekSystemKey(systemId);
      if (system === undefined) return false;
      const r = new ByteReader(blob);
      for (let k = 0; k < count; k++) {
        const e = decodeEvent(r, system, timeSec, first + k, stationKey);
        if (unknown) {
          out.length = start;
          return false;
        }
        if (e.offset <= afterOffset) continue;
        out.push(e);
        if (out.length === limit) return true;
      }
    }
    return true;
  }

  private async learnIds(db: Db, rows: readonly BatchRow[]): Promise<void> {
    const stations = new Set<number>();
    const systems = new Set<number>();
    for (const row of rows) {
      systems.add(row[2]);
      const r = new ByteReader(row[4]);
      for (let k = 0; k < row[1]; k++) {
        decodeEvent(r, '', row[3], 0, noStationKey);
        stations.add(Math.floor(decoded.key / 64));
      }
    }
    await this.dict.ensureKeys(db, stations, systems);
  }

  async lastOffset(): Promise<number> {
    return (await this.ctx.db.rows<[number]>(selectHead))[0]![0] - 1;
  }

  async consumerOffset(consumer: string): Promise<number> {
    return (await this.ctx.db.rows<[number]>(selectConsumer, [consumer]))[0]?.[0] ?? 0;
  }

  /** Move a consumer's offset inside the caller's transaction. */
  async setOffsetInTx(tx: Tx, consumer: string, offset: number): Promise<void> {
    if (typeof consumer !== 'string' || consumer === '')
      throw new Error(`consumer must be a non-empty string, got ${String(consumer)}`);
    checkOffset(offset);
    await tx.run(upsertConsumer, [consumer, offset]);
  }

  commitOffset(consumer: string, offset: number): Promise<void> {
    return this.ctx.write((tx) => this.setOffsetInTx(tx, consumer, offset), 'autocommit');
  }
}
