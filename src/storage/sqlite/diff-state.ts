import type Database from 'better-sqlite3';
import type { StationStatus } from '../../feed/model.js';
import type { DiffState } from '../types.js';
import { ByteWriter } from '../codec/bytes.js';
import type { SqliteContext } from './context.js';
import { applyPacked, copyStatus, packImage, writeStatus, type StateMirror } from '../codec/state.js';

export interface DiffUpdate {
  lastDocumentSec: number;
  changed: StationStatus[];
  removed: string[];
  capacities: Map<string, number | null>;
}

/** A delta row per document, a full image every this many: bounds the work of a load. */
export const DIFF_IMAGE_EVERY = 64;

interface Mirror extends StateMirror {
  lastDocumentSec: number | null;
  /** Newest delta folded in (0 when none): compared with the table to know the mirror is current. */
  lastDeltaId: number;
  deltasSinceImage: number;
}

/**
 * The producer's diff state (tables diff_state + diff_deltas, see migration 2): one small packed
 * delta row per document with the stations given in `changed`, the removals and the capacities
 * that differ from what is stored; every DIFF_IMAGE_EVERY documents a full image replaces the
 * deltas. An in-memory mirror (checked against the newest delta id, so another connection's
 * writes are seen) serves loads and tells which capacities changed.
 *
 * `capacities` may be the whole map (what DiffState holds) or only changes: entries are upserted.
 * A removed station loses its status and its capacity.
 */
export class DiffStateStore {
  private readonly selectImage: Database.Statement;
  private readonly selectDeltas: Database.Statement;
  private readonly selectLastDelta: Database.Statement;
  private readonly insertDelta: Database.Statement;
  private readonly upsertImage: Database.Statement;
  private readonly deleteDeltas: Database.Statement;
  private readonly loadTx: Database.Transaction<(systemId: number) => Mirror>;
  private readonly mirrors = new Map<number, Mirror>();
  private readonly deltaWriter = new ByteWriter();
  private readonly imageWriter = new ByteWriter();

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.selectImage = db
      .prepare('SELECT base_delta_id, last_document_sec, image FROM diff_state WHERE system_id = ?')
      .raw();
    this.selectDeltas = db
      .prepare(
        'SELECT id, last_document_sec, delta FROM diff_deltas WHERE system_id = ? AND id > ? ORDER BY id',
      )
      .raw();
    this.selectLastDelta = db.prepare('SELECT max(id) FROM diff_deltas WHERE system_id = ?').pluck();
    this.insertDelta = db.prepare(
      'INSERT INTO diff_deltas (system_id, last_document_sec, delta) VALUES (?, ?, ?)',
    );
    this.upsertImage = db.prepare(
      'INSERT OR REPLACE INTO diff_state (system_id, base_delta_id, last_document_sec, image) VALUES (?, ?, ?, ?)',
    );
    // The base delta itself stays: max(id) then still tells a reader the image's position.
    this.deleteDeltas = db.prepare('DELETE FROM diff_deltas WHERE system_id = ? AND id < ?');
    // One read transaction: image and deltas from the same snapshot of the file.
    this.loadTx = db.transaction((systemId: number) => this.loadMirror(systemId));
    ctx.onRollback(() => this.mirrors.clear());
  }

  private loadMirror(systemId: number): Mirror {
    const dict = this.ctx.dict;
    const m: Mirror = {
      stations: new Map(),
      capacities: new Map(),
      lastDocumentSec: null,
      lastDeltaId: 0,
      deltasSinceImage: 0,
    };
    const image = this.selectImage.get(systemId) as [number, number | null, Uint8Array] | undefined;
    let base = 0;
    if (image !== undefined) {
      base = image[0];
      m.lastDeltaId = base;
      m.lastDocumentSec = image[1];
      applyPacked(image[2], m, dict);
    }
    for (const [id, lastDocumentSec, delta] of this.selectDeltas.all(systemId, base) as [
      number,
      number,
      Uint8Array,
    ][]) {
      applyPacked(delta, m, dict);
      m.lastDocumentSec = lastDocumentSec;
      m.lastDeltaId = id;
      m.deltasSinceImage++;
    }
    this.mirrors.set(systemId, m);
    return m;
  }

  private mirror(systemId: number): Mirror {
    const m = this.mirrors.get(systemId);
    const newest = (this.selectLastDelta.get(systemId) as number | null) ?? 0;
    if (m !== undefined && m.lastDeltaId === newest) return m;
    return this.loadTx(systemId);
  }

  /** Inside the caller's write transaction. */
  saveInTx(systemId: number, update: DiffUpdate): void {
    const dict = this.ctx.dict;
    if (!Number.isSafeInteger(update.lastDocumentSec)) {
      throw new Error(`lastDocumentSec must be an integer, got ${String(update.lastDocumentSec)}`);
    }
    const m = this.mirror(systemId);
    const w = this.deltaWriter;
    w.reset();
    w.uint(update.changed.length);
    for (const s of update.changed) writeStatus(w, dict.stationId(systemId, s.stationId), s);
    const removed = update.removed;
    w.uint(removed.length);
    for (const key of removed) w.uint(dict.stationId(systemId, key));
    // Capacities that differ from what is stored (normally none: the map is the whole state).
    let capacityChanges: [string, number | null][] | null = null;
    // forEach, not for…of: no [key, value] array per entry, and this visits every station per document.
    const known = m.capacities;
    update.capacities.forEach((capacity, key) => {
      const old = known.get(key);
      if (old === capacity && (old !== undefined || known.has(key))) return;
      if (capacity !== null && !Number.isInteger(capacity))
        throw new Error(`capacity of station ${key} must be an integer or null`);
      (capacityChanges ??= []).push([key, capacity]);
    });
    const changes = capacityChanges as [string, number | null][] | null;
    w.uint(changes?.length ?? 0);
    for (const [key, capacity] of changes ?? []) {
      w.uint(dict.stationId(systemId, key));
      w.nullableInt(capacity);
    }
    const id = Number(this.insertDelta.run(systemId, update.lastDocumentSec, w.view()).lastInsertRowid);

    // The mirror follows (a failed transaction clears it, see the constructor).
    for (const s of update.changed) m.stations.set(s.stationId, copyStatus(s));
    for (const key of removed) {
      m.stations.delete(key);
      m.capacities.delete(key);
    }
    for (const [key, capacity] of changes ?? []) m.capacities.set(key, capacity);
    m.lastDocumentSec = update.lastDocumentSec;
    m.lastDeltaId = id;
    m.deltasSinceImage++;
    if (m.deltasSinceImage >= DIFF_IMAGE_EVERY) {
      this.upsertImage.run(systemId, id, m.lastDocumentSec, packImage(m, systemId, dict, this.imageWriter));
      this.deleteDeltas.run(systemId, id);
      m.deltasSinceImage = 0;
    }
  }

  listStatus(systemId: number | undefined): StationStatus[] {
    if (systemId === undefined) return [];
    return Array.from(this.mirror(systemId).stations.values(), copyStatus);
  }

  /** A copy: the caller owns and mutates its DiffState, the mirror must keep what is stored. */
  load(systemId: number | undefined): DiffState {
    if (systemId === undefined) return { lastDocumentSec: null, stations: new Map(), capacities: new Map() };
    const m = this.mirror(systemId);
    const stations = new Map<string, StationStatus>();
    for (const [key, s] of m.stations) stations.set(key, copyStatus(s));
    return { lastDocumentSec: m.lastDocumentSec, stations, capacities: new Map(m.capacities) };
  }
}
