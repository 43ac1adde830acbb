import type Database from 'better-sqlite3';
import type { DetectedState, Evidence, StateChange, StationState } from '../../detection/types.js';
import type { DetectedStateRow, StateChangeQuery, StoredStateChange } from '../types.js';
import { asBuffer, joinCheckpoint, splitCheckpoint } from '../codec/index.js';
import type { SqliteContext } from './context.js';
import { checkOffset } from './event-log.js';

type ChangeRow = [
  number,
  number,
  number,
  number,
  string,
  string,
  string,
  number,
  string,
  string | null,
  number,
];

const CHANGE_COLUMNS =
  'id, system_id, station_id, time_sec, from_state, to_state, detector, confidence, reason, evidence, log_offset';

/** Detector output: state changes (idempotent), checkpoints, current detected states. */
export class DetectionStore {
  private readonly insertChange: Database.Statement;
  private readonly upsertCheckpoint: Database.Statement;
  private readonly selectCheckpoint: Database.Statement;
  private readonly upsertDetected: Database.Statement;
  private readonly selectDetected: Database.Statement;
  /** One statement per combination of filters (at most 2^6), prepared on first use. */
  private readonly queries = new Map<string, Database.Statement>();

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.insertChange = db.prepare(
      `INSERT INTO state_changes (system_id, station_id, time_sec, from_state, to_state, detector, confidence, reason, evidence, log_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (system_id, station_id, detector, log_offset, to_state) DO NOTHING`,
    );
    this.upsertCheckpoint = db.prepare(
      'INSERT OR REPLACE INTO checkpoints (consumer, log_offset, state, state_binary) VALUES (?, ?, ?, ?)',
    );
    this.selectCheckpoint = db
      .prepare('SELECT log_offset, state, state_binary FROM checkpoints WHERE consumer = ?')
      .raw();
    this.upsertDetected = db.prepare(
      'INSERT OR REPLACE INTO detected_states (system_id, station_id, state, since_sec, confidence, detector) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.selectDetected = db
      .prepare(
        'SELECT station_id, state, since_sec, confidence, detector FROM detected_states WHERE system_id = ?',
      )
      .raw();
  }

  /** Inside the caller's write transaction. Returns the number of changes actually inserted. */
  insertChangesInTx(changes: readonly StateChange[]): number {
    const dict = this.ctx.dict;
    let inserted = 0;
    for (const c of changes) {
      const systemId = dict.systemId(c.system);
      const evidence = c.evidence === null || c.evidence === undefined ? null : JSON.stringify(c.evidence);
      inserted += this.insertChange.run(
        systemId,
        dict.stationId(systemId, c.stationId),
        c.timeSec,
        c.from,
        c.to,
        c.detector,
        c.confidence,
        c.reason,
        evidence,
        c.offset,
      ).changes;
    }
    return inserted;
  }

  saveCheckpointInTx(consumer: string, offset: number, state: unknown): void {
    checkOffset(offset);
    const { json, binary } = splitCheckpoint(consumer, state);
    this.upsertCheckpoint.run(consumer, offset, json, binary === null ? null : asBuffer(binary));
  }

  loadCheckpoint(consumer: string): { offset: number; state: unknown } | null {
    const row = this.selectCheckpoint.get(consumer) as [number, string, Buffer | null] | undefined;
    return row === undefined ? null : { offset: row[0], state: joinCheckpoint(row[1], row[2]) };
  }

  saveDetected(system: string, rows: readonly DetectedStateRow[]): void {
    if (rows.length === 0) return;
    this.ctx.write(() => {
      const systemId = this.ctx.dict.systemId(system);
      for (const r of rows) {
        const stationId = this.ctx.dict.stationId(systemId, r.stationId);
        this.upsertDetected.run(systemId, stationId, r.state, r.sinceSec, r.confidence, r.detector);
      }
    });
  }

  listDetected(system: string): DetectedStateRow[] {
    const systemId = this.ctx.dict.findSystemId(system);
    if (systemId === undefined) return [];
    const rows = this.selectDetected.all(systemId) as [number, DetectedState, number, number, string][];
    return rows.map((r) => ({
      stationId: this.ctx.dict.stationKey(r[0]),
      state: r[1],
      sinceSec: r[2],
      confidence: r[3],
      detector: r[4],
    }));
  }

  /**
   * Newest first (by id). `state` matches the state changed *to*; the time window is
   * sinceSec <= timeSec < untilSec.
   */
  listChanges(q: StateChangeQuery): StoredStateChange[] {
    if (!Number.isSafeInteger(q.limit) || q.limit < 0)
      throw new RangeError(`limit must be an integer >= 0, got ${q.limit}`);
    const dict = this.ctx.dict;
    const where: string[] = [];
    const params: (number | string)[] = [];
    let systemId: number | undefined;
    if (q.system !== undefined) {
      systemId = dict.findSystemId(q.system);
      if (systemId === undefined) return [];
      where.push('system_id = ?');
      params.push(systemId);
    }
    if (q.stationId !== undefined) {
      // Station ids are per system: without a system, match the key in every system.
      if (systemId !== undefined) {
        const id = dict.findStationId(systemId, q.stationId);
        if (id === undefined) return [];
        where.push('station_id = ?');
        params.push(id);
      } else {
        where.push('station_id IN (SELECT id FROM stations WHERE key = ?)');
        params.push(q.stationId);
      }
    }
    if (q.state !== undefined) {
      where.push('to_state = ?');
      params.push(q.state);
    }
    if (q.sinceSec !== undefined) {
      where.push('time_sec >= ?');
      params.push(q.sinceSec);
    }
    if (q.untilSec !== undefined) {
      where.push('time_sec < ?');
      params.push(q.untilSec);
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?');
      params.push(q.beforeId);
    }
    const sql = `SELECT ${CHANGE_COLUMNS} FROM state_changes${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    let stmt = this.queries.get(sql);
    if (stmt === undefined) {
      stmt = this.ctx.db.prepare(sql).raw();
      this.queries.set(sql, stmt);
    }
    params.push(q.limit);
    const rows = stmt.all(...params) as ChangeRow[];
    return rows.map((r) => ({
      id: r[0],
      system: dict.systemKey(r[1]),
      stationId: dict.stationKey(r[2]),
      timeSec: r[3],
      from: r[4] as StationState,
      to: r[5] as StationState,
      detector: r[6],
      confidence: r[7],
      reason: r[8],
      evidence: r[9] === null ? null : (JSON.parse(r[9]) as Evidence),
      offset: r[10],
    }));
  }
}
