import type { StationStatus } from '../../feed/model.js';
import type { DiffState } from '../types.js';
import { stmt, type Db, type PgContext, type Tx } from './context.js';
import type { PgDictionary } from './dictionary.js';
import { INSERT_BATCHES_CTE, type BatchParams } from './event-log.js';

export interface DiffUpdate {
  lastDocumentSec: number;
  changed: StationStatus[];
  removed: string[];
  capacities: Map<string, number | null>;
}

type StatusRow = [
  string,
  string | null,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number | null,
];

const STATUS_COLUMNS = `s.key, st.code, st.mechanical, st.electric, st.other, st.bikes_disabled, st.docks_available,
  st.docks_disabled, st.flags, st.last_reported_sec`;
const selectStatus = stmt(
  'diff_select_status',
  `SELECT ${STATUS_COLUMNS} FROM station_status AS st JOIN stations AS s ON s.id = st.station_id WHERE st.system_id = $1`,
);
const selectCapacities = stmt(
  'diff_select_capacities',
  'SELECT s.key, c.capacity FROM station_capacity AS c JOIN stations AS s ON s.id = c.station_id WHERE c.system_id = $1',
);
const selectState = stmt(
  'diff_select_state',
  'SELECT last_document_sec FROM diff_state WHERE system_id = $1',
);
/**
 * The system's row (locked until commit: one producer at a time per system) and the changed
 * stations, in one statement; with `log`, the log's batches too (parameters $1…$6, see
 * event-log.ts), so that a whole commitDiff is three round trips: lock, write, COMMIT.
 */
function saveStateText(log: boolean): string {
  const p = (n: number): string => `$${n + (log ? 6 : 0)}`;
  return `WITH ${log ? `${INSERT_BATCHES_CTE},` : ''} d AS (
     INSERT INTO diff_state (system_id, last_document_sec, revision) VALUES (${p(1)}, ${p(2)}, 1)
     ON CONFLICT (system_id) DO UPDATE SET last_document_sec = excluded.last_document_sec, revision = diff_state.revision + 1
     RETURNING revision
   ), s AS (
     INSERT INTO station_status (system_id, station_id, code, mechanical, electric, other, bikes_disabled, docks_available,
       docks_disabled, flags, last_reported_sec)
     SELECT ${p(1)}, * FROM unnest(${p(3)}::integer[], ${p(4)}::text[], ${p(5)}::integer[], ${p(6)}::integer[], ${p(7)}::integer[],
       ${p(8)}::integer[], ${p(9)}::integer[], ${p(10)}::integer[], ${p(11)}::smallint[], ${p(12)}::bigint[])
     ON CONFLICT (system_id, station_id) DO UPDATE SET code = excluded.code, mechanical = excluded.mechanical,
       electric = excluded.electric, other = excluded.other, bikes_disabled = excluded.bikes_disabled,
       docks_available = excluded.docks_available, docks_disabled = excluded.docks_disabled, flags = excluded.flags,
       last_reported_sec = excluded.last_reported_sec
   )
   SELECT revision FROM d`;
}
const saveState = stmt('diff_save_state', saveStateText(false));
const saveStateAndLog = stmt('diff_save_state_log', saveStateText(true));
const deleteRemoved = stmt(
  'diff_delete_removed',
  `WITH s AS (DELETE FROM station_status WHERE system_id = $1 AND station_id = ANY($2::integer[]))
   DELETE FROM station_capacity WHERE system_id = $1 AND station_id = ANY($2::integer[])`,
);
const upsertCapacities = stmt(
  'diff_upsert_capacities',
  `INSERT INTO station_capacity (system_id, station_id, capacity) SELECT $1, * FROM unnest($2::integer[], $3::integer[])
   ON CONFLICT (system_id, station_id) DO UPDATE SET capacity = excluded.capacity`,
);

function int(v: unknown, what: string, stationId: string): number {
  if (!Number.isSafeInteger(v))
    throw new Error(`invalid status of station ${stationId}: ${what} must be an integer, got ${String(v)}`);
  return v as number;
}

function toStatus(r: StatusRow): StationStatus {
  return {
    stationId: r[0],
    code: r[1],
    bikes: { mechanical: r[2], electric: r[3], other: r[4] },
    bikesDisabled: r[5],
    docksAvailable: r[6],
    docksDisabled: r[7],
    isInstalled: (r[8] & 1) !== 0,
    isRenting: (r[8] & 2) !== 0,
    isReturning: (r[8] & 4) !== 0,
    lastReportedSec: r[9],
  };
}

/** What this process knows of a system's stored capacities, valid at `revision`. */
interface Mirror {
  revision: number;
  capacities: Map<string, number | null>;
}

/**
 * The producer's diff state as rows (see migrations/002_store_state.ts). `capacities` may be the
 * whole map (what DiffState holds) or only changes: only entries that differ from what is stored
 * are written, found with an in-memory copy of the stored capacities that is trusted only when
 * the revision returned by this commit is its own plus one (else reloaded, under the row lock).
 * A removed station loses its status and its capacity.
 */
export class PgDiffState {
  private readonly mirrors = new Map<number, Mirror>();

  constructor(
    private readonly ctx: PgContext,
    private readonly dict: PgDictionary,
  ) {}

  /** Inside the caller's transaction; `log`: batches to insert in the same statement (or null). */
  async saveInTx(
    tx: Tx,
    systemId: number,
    update: DiffUpdate,
    log: BatchParams | null = null,
  ): Promise<void> {
    if (!Number.isSafeInteger(update.lastDocumentSec)) {
      throw new Error(`lastDocumentSec must be an integer, got ${String(update.lastDocumentSec)}`);
    }
    // Last one wins when a station comes twice, as with one upsert after the other.
    const changed = new Map<string, StationStatus>();
    for (const s of update.changed) changed.set(s.stationId, s);
    await this.dict.resolveStations(tx, systemId, changed.keys());
    const n = changed.size;
    const ids: number[] = new Array<number>(n);
    const codes: (string | null)[] = new Array<string | null>(n);
    const cols: number[][] = Array.from({ length: 6 }, () => new Array<number>(n));
    const flags: number[] = new Array<number>(n);
    const reported: (number | null)[] = new Array<number | null>(n);
    let i = 0;
    for (const s of changed.values()) {
      const key = s.stationId;
      if (s.code !== null && typeof s.code !== 'string')
        throw new Error(`invalid status of station ${key}: code must be a string or null`);
      ids[i] = this.dict.stationId(systemId, key);
      codes[i] = s.code;
      cols[0]![i] = int(s.bikes.mechanical, 'bikes.mechanical', key);
      cols[1]![i] = int(s.bikes.electric, 'bikes.electric', key);
      cols[2]![i] = int(s.bikes.other, 'bikes.other', key);
      cols[3]![i] = int(s.bikesDisabled, 'bikesDisabled', key);
      cols[4]![i] = int(s.docksAvailable, 'docksAvailable', key);
      cols[5]![i] = int(s.docksDisabled, 'docksDisabled', key);
      flags[i] = (s.isInstalled ? 1 : 0) | (s.isRenting ? 2 : 0) | (s.isReturning ? 4 : 0);
      reported[i] = s.lastReportedSec === null ? null : int(s.lastReportedSec, 'lastReportedSec', key);
      i++;
    }
    const values = [systemId, update.lastDocumentSec, ids, codes, ...cols, flags, reported];
    const revision = (
      await tx.rows<[number]>(
        log === null ? saveState : saveStateAndLog,
        log === null ? values : [...log, ...values],
      )
    )[0]![0];

    let mirror = this.mirrors.get(systemId);
    if (mirror === undefined || mirror.revision !== revision - 1) {
      mirror = {
        revision: revision - 1,
        capacities: new Map(await tx.rows<[string, number | null]>(selectCapacities, [systemId])),
      };
    }
    const stored = mirror.capacities;
    const removed = update.removed;
    // Capacities that differ from what is stored (normally none: the map is the whole state).
    const capacityKeys: string[] = [];
    const capacityValues: (number | null)[] = [];
    // forEach, not for…of: no [key, value] array per entry, and this visits every station per document.
    update.capacities.forEach((capacity, key) => {
      const old = stored.get(key);
      if (old === capacity && (old !== undefined || stored.has(key))) return;
      if (capacity !== null && !Number.isSafeInteger(capacity))
        throw new Error(`capacity of station ${key} must be an integer or null`);
      capacityKeys.push(key);
      capacityValues.push(capacity);
    });

    let next = stored;
    if (removed.length > 0 || capacityKeys.length > 0) {
      await this.dict.resolveStations(tx, systemId, [...removed, ...capacityKeys]);
      next = new Map(stored);
      if (removed.length > 0) {
        await tx.run(deleteRemoved, [systemId, removed.map((key) => this.dict.stationId(systemId, key))]);
        for (const key of removed) next.delete(key);
      }
      if (capacityKeys.length > 0) {
        await tx.run(upsertCapacities, [
          systemId,
          capacityKeys.map((key) => this.dict.stationId(systemId, key)),
          capacityValues,
        ]);
        for (let k = 0; k < capacityKeys.length; k++) next.set(capacityKeys[k]!, capacityValues[k]!);
      }
    }
    const committed: Mirror = { revision, capacities: next };
    tx.onCommit(() => {
      const current = this.mirrors.get(systemId);
      if (current === undefined || current.revision < revision) this.mirrors.set(systemId, committed);
    });
  }

  async listStatus(db: Db, systemId: number | undefined): Promise<StationStatus[]> {
    if (systemId === undefined) return [];
    return (await db.rows<StatusRow>(selectStatus, [systemId])).map(toStatus);
  }

  /** State, statuses and capacities from one snapshot. */
  load(systemId: number | undefined): Promise<DiffState> {
    if (systemId === undefined)
      return Promise.resolve({ lastDocumentSec: null, stations: new Map(), capacities: new Map() });
    return this.ctx.write(async (tx) => {
      const row = (await tx.rows<[number | null]>(selectState, [systemId]))[0];
      const stations = new Map<string, StationStatus>();
      for (const s of await this.listStatus(tx, systemId)) stations.set(s.stationId, s);
      const capacities = new Map(await tx.rows<[string, number | null]>(selectCapacities, [systemId]));
      return { lastDocumentSec: row?.[0] ?? null, stations, capacities };
    }, 'snapshot');
  }
}
