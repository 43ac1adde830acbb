import type Database from 'better-sqlite3';
import type { StationStatus } from '../../feed/model.js';
import type { DiffState } from '../types.js';
import type { SqliteContext } from './context.js';

export interface DiffUpdate {
  lastDocumentSec: number;
  changed: StationStatus[];
  removed: string[];
  capacities: Map<string, number | null>;
}

const STATUS_COLUMNS =
  'station_id, code, mech, elec, other, bikes_disabled, docks_available, docks_disabled, flags, last_reported_sec';

type StatusRow = [number, string | null, number, number, number, number, number, number, number, number | null];

function flagsOf(s: StationStatus): number {
  return (s.isInstalled ? 1 : 0) | (s.isRenting ? 2 : 0) | (s.isReturning ? 4 : 0);
}

/**
 * The producer's diff state: one row per station (its last accepted status), the capacities and
 * the last document time. commitDiff writes only the stations that changed, so a document costs
 * rows in proportion to its events, not to the size of the system.
 *
 * `capacities` may be the whole map (what DiffState holds) or only changes: entries are upserted,
 * and only those that differ from what is stored are written (an in-memory mirror tells which).
 * A removed station loses its status and its capacity.
 */
export class DiffStateStore {
  private readonly upsertStatus: Database.Statement;
  private readonly deleteStatus: Database.Statement;
  private readonly upsertCapacity: Database.Statement;
  private readonly deleteCapacity: Database.Statement;
  private readonly upsertLastDocument: Database.Statement;
  private readonly selectStatus: Database.Statement;
  private readonly selectCapacities: Database.Statement;
  private readonly selectLastDocument: Database.Statement;
  /** Mirror of the capacities table per system id, loaded on first use. */
  private readonly capacityCache = new Map<number, Map<string, number | null>>();
  private readonly statusRow: unknown[] = new Array<unknown>(11);

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.upsertStatus = db.prepare(
      `INSERT OR REPLACE INTO station_status (system_id, ${STATUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteStatus = db.prepare('DELETE FROM station_status WHERE system_id = ? AND station_id = ?');
    this.upsertCapacity = db.prepare('INSERT OR REPLACE INTO capacities (system_id, station_id, capacity) VALUES (?, ?, ?)');
    this.deleteCapacity = db.prepare('DELETE FROM capacities WHERE system_id = ? AND station_id = ?');
    this.upsertLastDocument = db.prepare('INSERT OR REPLACE INTO diff_state (system_id, last_document_sec) VALUES (?, ?)');
    this.selectStatus = db.prepare(`SELECT ${STATUS_COLUMNS} FROM station_status WHERE system_id = ?`).raw();
    this.selectCapacities = db.prepare('SELECT station_id, capacity FROM capacities WHERE system_id = ?').raw();
    this.selectLastDocument = db.prepare('SELECT last_document_sec FROM diff_state WHERE system_id = ?').pluck();
    ctx.onRollback(() => this.capacityCache.clear());
  }

  private capacitiesOf(systemId: number): Map<string, number | null> {
    let m = this.capacityCache.get(systemId);
    if (m === undefined) {
      m = new Map();
      for (const [stationId, capacity] of this.selectCapacities.all(systemId) as [number, number | null][]) {
        m.set(this.ctx.dict.stationKey(stationId), capacity);
      }
      this.capacityCache.set(systemId, m);
    }
    return m;
  }

  /** Inside the caller's write transaction. */
  saveInTx(systemId: number, update: DiffUpdate): void {
    const dict = this.ctx.dict;
    if (!Number.isInteger(update.lastDocumentSec)) {
      throw new Error(`lastDocumentSec must be an integer, got ${String(update.lastDocumentSec)}`);
    }
    const row = this.statusRow;
    row[0] = systemId;
    for (const s of update.changed) {
      row[1] = dict.stationId(systemId, s.stationId);
      row[2] = s.code;
      row[3] = s.bikes.mechanical;
      row[4] = s.bikes.electric;
      row[5] = s.bikes.other;
      row[6] = s.bikesDisabled;
      row[7] = s.docksAvailable;
      row[8] = s.docksDisabled;
      row[9] = flagsOf(s);
      row[10] = s.lastReportedSec;
      this.upsertStatus.run(row);
    }
    const caps = this.capacitiesOf(systemId);
    for (const key of update.removed) {
      const id = dict.findStationId(systemId, key);
      if (id === undefined) continue;
      this.deleteStatus.run(systemId, id);
      if (caps.delete(key)) this.deleteCapacity.run(systemId, id);
    }
    for (const [key, capacity] of update.capacities) {
      const known = caps.get(key);
      if (known === capacity && (known !== undefined || caps.has(key))) continue;
      this.upsertCapacity.run(systemId, dict.stationId(systemId, key), capacity);
      caps.set(key, capacity);
    }
    this.upsertLastDocument.run(systemId, update.lastDocumentSec);
  }

  listStatus(systemId: number | undefined): StationStatus[] {
    if (systemId === undefined) return [];
    const dict = this.ctx.dict;
    const rows = this.selectStatus.all(systemId) as StatusRow[];
    return rows.map((r) => ({
      stationId: dict.stationKey(r[0]),
      code: r[1],
      bikes: { mechanical: r[2], electric: r[3], other: r[4] },
      bikesDisabled: r[5],
      docksAvailable: r[6],
      docksDisabled: r[7],
      isInstalled: (r[8] & 1) !== 0,
      isRenting: (r[8] & 2) !== 0,
      isReturning: (r[8] & 4) !== 0,
      lastReportedSec: r[9],
    }));
  }

  load(systemId: number | undefined): DiffState {
    if (systemId === undefined) return { lastDocumentSec: null, stations: new Map(), capacities: new Map() };
    const stations = new Map<string, StationStatus>();
    for (const s of this.listStatus(systemId)) stations.set(s.stationId, s);
    // A copy: the caller owns and mutates its DiffState, the mirror must keep what is stored.
    const capacities = new Map(this.capacitiesOf(systemId));
    const last = this.selectLastDocument.get(systemId) as number | null | undefined;
    return { lastDocumentSec: last ?? null, stations, capacities };
  }
}
