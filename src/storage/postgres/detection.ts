import { createHash } from 'node:crypto';
import type { DetectedState, Evidence, StateChange, StationState } from '../../detection/types.js';
import { asBuffer, joinCheckpoint, splitCheckpoint } from '../codec/index.js';
import type { DetectedStateRow, StateChangeQuery, StoredStateChange } from '../types.js';
import { stmt, type Db, type Tx } from './context.js';
import type { PgDictionary } from './dictionary.js';
import { checkOffset } from './event-log.js';

type ChangeRow = [
  number,
  string,
  string,
  number,
  string,
  string,
  string,
  number,
  string,
  string | null,
  number,
];

// The changes, the consumer's offset and (when $13 is not null) its checkpoint, in one statement:
// atomic without a transaction block. $13 is the checkpoint's JSON text, $14 its binary parts
// (codec/checkpoint.ts) or null. WITH ORDINALITY … ORDER BY: ids (the pagination cursor) follow the
// order of the call.
const commitDetection = stmt(
  'det_commit',
  `WITH c AS (
     INSERT INTO state_changes (system_id, station_id, time_sec, from_state, to_state, detector, confidence, reason, evidence, log_offset)
     SELECT system_id, station_id, time_sec, from_state, to_state, detector, confidence, reason, evidence, log_offset
     FROM unnest($1::integer[], $2::integer[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[],
       $9::text[], $10::bigint[]) WITH ORDINALITY
       AS c (system_id, station_id, time_sec, from_state, to_state, detector, confidence, reason, evidence, log_offset, n)
     ORDER BY n
     ON CONFLICT (system_id, station_id, detector, log_offset, to_state) DO NOTHING
     RETURNING 1
   ), o AS (
     INSERT INTO consumer_offsets (consumer, log_offset) VALUES ($11, $12)
     ON CONFLICT (consumer) DO UPDATE SET log_offset = excluded.log_offset
   ), k AS (
     INSERT INTO checkpoints (consumer, log_offset, state, state_binary)
     SELECT $11, $12, $13::text, $14::bytea WHERE $13::text IS NOT NULL
     ON CONFLICT (consumer) DO UPDATE SET log_offset = excluded.log_offset, state = excluded.state,
       state_binary = excluded.state_binary
   )
   SELECT count(*)::integer FROM c`,
);
const selectCheckpoint = stmt(
  'det_select_checkpoint',
  'SELECT log_offset, state, state_binary FROM checkpoints WHERE consumer = $1',
);
const upsertDetected = stmt(
  'det_upsert_detected',
  `INSERT INTO detected_states (system_id, station_id, state, since_sec, confidence, detector)
   SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::bigint[], $5::float8[], $6::text[])
   ON CONFLICT (system_id, station_id) DO UPDATE SET state = excluded.state, since_sec = excluded.since_sec,
     confidence = excluded.confidence, detector = excluded.detector`,
);
const selectDetected = stmt(
  'det_select_detected',
  `SELECT s.key, d.state, d.since_sec, d.confidence, d.detector
   FROM detected_states AS d JOIN stations AS s ON s.id = d.station_id WHERE d.system_id = $1`,
);

function check(ok: boolean, c: StateChange, what: string): void {
  if (!ok)
    throw new Error(
      `invalid state change of station ${String(c.stationId)} at offset ${String(c.offset)}: ${what}`,
    );
}

/** Detector output: state changes (idempotent), checkpoints, current detected states. */
export class PgDetection {
  constructor(private readonly dict: PgDictionary) {}

  /**
   * State changes (idempotent), the consumer's offset and, when given, its checkpoint: one
   * statement, after the ids of new stations. Returns the number of changes actually inserted.
   */
  async commitInTx(
    tx: Tx,
    consumer: string,
    offset: number,
    changes: readonly StateChange[],
    checkpoint?: unknown,
  ): Promise<number> {
    if (typeof consumer !== 'string' || consumer === '')
      throw new Error(`consumer must be a non-empty string, got ${String(consumer)}`);
    checkOffset(offset);
    let json: string | null = null;
    let binary: Buffer | null = null;
    if (checkpoint !== undefined) {
      const parts = splitCheckpoint(consumer, checkpoint);
      json = parts.json;
      if (parts.binary !== null) binary = asBuffer(parts.binary);
    }
    const keysBySystem = new Map<string, Set<string>>();
    for (const c of changes) {
      check(Number.isSafeInteger(c.timeSec), c, `timeSec must be an integer, got ${String(c.timeSec)}`);
      check(Number.isSafeInteger(c.offset) && c.offset >= 0, c, 'offset must be an integer >= 0');
      check(
        typeof c.confidence === 'number' && Number.isFinite(c.confidence),
        c,
        'confidence must be a finite number',
      );
      for (const s of [c.from, c.to, c.detector, c.reason])
        check(typeof s === 'string' && s !== '', c, 'from, to, detector, reason must be strings');
      let keys = keysBySystem.get(c.system);
      if (keys === undefined) keysBySystem.set(c.system, (keys = new Set()));
      keys.add(c.stationId);
    }
    const systemIds = new Map<string, number>();
    for (const [system, keys] of keysBySystem) {
      const id = await this.dict.systemId(system);
      systemIds.set(system, id);
      await this.dict.resolveStations(tx, id, keys);
    }
    const cols: unknown[][] = Array.from({ length: 10 }, () => []);
    for (const c of changes) {
      const systemId = systemIds.get(c.system)!;
      const evidence = c.evidence === null || c.evidence === undefined ? null : JSON.stringify(c.evidence);
      const values = [
        systemId,
        this.dict.stationId(systemId, c.stationId),
        c.timeSec,
        c.from,
        c.to,
        c.detector,
        c.confidence,
        c.reason,
        evidence,
        c.offset,
      ];
      for (let k = 0; k < 10; k++) cols[k]!.push(values[k]);
    }
    return (await tx.rows<[number]>(commitDetection, [...cols, consumer, offset, json, binary]))[0]![0];
  }

  async loadCheckpoint(db: Db, consumer: string): Promise<{ offset: number; state: unknown } | null> {
    const row = (await db.rows<[number, string, Buffer | null]>(selectCheckpoint, [consumer]))[0];
    return row === undefined ? null : { offset: row[0], state: joinCheckpoint(row[1], row[2]) };
  }

  async saveDetectedInTx(tx: Tx, system: string, rows: readonly DetectedStateRow[]): Promise<void> {
    if (rows.length === 0) return;
    const systemId = await this.dict.systemId(system);
    // Last one wins when a station comes twice, as with one upsert after the other.
    const byStation = new Map<string, DetectedStateRow>();
    for (const r of rows) byStation.set(r.stationId, r);
    await this.dict.resolveStations(tx, systemId, byStation.keys());
    const list = [...byStation.values()];
    await tx.run(upsertDetected, [
      systemId,
      list.map((r) => this.dict.stationId(systemId, r.stationId)),
      list.map((r) => r.state),
      list.map((r) => r.sinceSec),
      list.map((r) => r.confidence),
      list.map((r) => r.detector),
    ]);
  }

  async listDetected(db: Db, systemId: number | undefined): Promise<DetectedStateRow[]> {
    if (systemId === undefined) return [];
    const rows = await db.rows<[string, DetectedState, number, number, string]>(selectDetected, [systemId]);
    return rows.map((r) => ({
      stationId: r[0],
      state: r[1],
      sinceSec: r[2],
      confidence: r[3],
      detector: r[4],
    }));
  }

  /**
   * Newest first (by id). `state` matches the state changed *to*; the time window is
   * sinceSec <= timeSec < untilSec. Ids come from an identity column: increasing in insert order
   * within a process; between concurrent writers an id may become visible after a higher one.
   */
  async listChanges(db: Db, q: StateChangeQuery): Promise<StoredStateChange[]> {
    if (!Number.isSafeInteger(q.limit) || q.limit < 0)
      throw new RangeError(`limit must be an integer >= 0, got ${q.limit}`);
    const where: string[] = [];
    const params: (number | string)[] = [];
    const param = (v: number | string): string => {
      params.push(v);
      return `$${params.length}`;
    };
    let systemId: number | undefined;
    if (q.system !== undefined) {
      systemId = await this.dict.findSystemId(db, q.system);
      if (systemId === undefined) return [];
      where.push(`c.system_id = ${param(systemId)}`);
    }
    if (q.stationId !== undefined) {
      // Station ids are per system: without a system, match the key in every system.
      if (systemId !== undefined) {
        const id = await this.dict.findStationId(db, systemId, q.stationId);
        if (id === undefined) return [];
        where.push(`c.station_id = ${param(id)}`);
      } else {
        where.push(`c.station_id IN (SELECT id FROM stations WHERE key = ${param(q.stationId)})`);
      }
    }
    if (q.state !== undefined) where.push(`c.to_state = ${param(q.state)}`);
    if (q.sinceSec !== undefined) where.push(`c.time_sec >= ${param(q.sinceSec)}`);
    if (q.untilSec !== undefined) where.push(`c.time_sec < ${param(q.untilSec)}`);
    if (q.beforeId !== undefined) where.push(`c.id < ${param(q.beforeId)}`);
    const text = `SELECT c.id, sy.key, st.key, c.time_sec, c.from_state, c.to_state, c.detector, c.confidence, c.reason,
        c.evidence, c.log_offset
      FROM state_changes AS c JOIN systems AS sy ON sy.id = c.system_id JOIN stations AS st ON st.id = c.station_id
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.id DESC LIMIT ${param(q.limit)}`;
    // One prepared statement per combination of filters (at most 2^6): the name follows the text.
    const rows = await db.rows<ChangeRow>(
      stmt(`det_list_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text),
      params,
    );
    return rows.map((r) => ({
      id: r[0],
      system: r[1],
      stationId: r[2],
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
