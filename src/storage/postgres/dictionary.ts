import type pg from 'pg';
import { stmt, type Db } from './context.js';

const insertSystem = stmt(
  'dict_insert_system',
  'INSERT INTO systems (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING id',
);
const selectSystem = stmt('dict_select_system', 'SELECT id FROM systems WHERE key = $1');
const selectSystemKeys = stmt(
  'dict_select_system_keys',
  'SELECT id, key FROM systems WHERE id = ANY($1::integer[])',
);
const selectStationsOf = stmt('dict_select_stations_of', 'SELECT id, key FROM stations WHERE system_id = $1');
const selectStations = stmt(
  'dict_select_stations',
  'SELECT id, key FROM stations WHERE system_id = $1 AND key = ANY($2::text[])',
);
const selectStationKeys = stmt(
  'dict_select_station_keys',
  'SELECT id, system_id, key FROM stations WHERE id = ANY($1::integer[])',
);
// Sorted: two processes adding the same new stations take them in the same order.
const insertStations = stmt(
  'dict_insert_stations',
  `INSERT INTO stations (system_id, key) SELECT $1, k FROM unnest($2::text[]) AS k ORDER BY k
   ON CONFLICT (system_id, key) DO NOTHING RETURNING id, key`,
);

/**
 * Integer ids for system and station keys, as in the SQLite store, cached in memory both ways.
 *
 * New ids are created on a connection of their own, each statement committing at once — never in
 * the caller's transaction. A dictionary row is a harmless fact (a name for a number), and
 * creating it apart keeps its locks out of the callers' transactions: two processes that meet the
 * same new stations, each inside a longer transaction, would otherwise wait on each other's
 * uncommitted rows (a deadlock PostgreSQL has to break by failing one of them). Ids are then
 * always committed, immutable, and safe to share with every call of the process.
 * `ON CONFLICT DO NOTHING` takes no lock on an existing row; the ids it does not return are read
 * by the next statement (a new snapshot, that sees a row another process just committed).
 */
export class PgDictionary {
  private readonly systemIds = new Map<string, number>();
  private readonly systemKeys = new Map<number, string>();
  private readonly stationIds = new Map<number, Map<string, number>>();
  private readonly stationKeys = new Map<number, string>();
  private readonly loaded = new Set<number>();

  /** `writer`: autocommit connections for new ids (a pool of its own, so a caller never waits for itself). */
  constructor(private readonly writer: pg.Pool) {}

  private stationsOf(systemId: number): Map<string, number> {
    let m = this.stationIds.get(systemId);
    if (m === undefined) {
      m = new Map();
      this.stationIds.set(systemId, m);
    }
    return m;
  }

  private learnStation(systemId: number, id: number, key: string): void {
    this.stationsOf(systemId).set(key, id);
    this.stationKeys.set(id, key);
  }

  private learnSystem(id: number, key: string): void {
    this.systemIds.set(key, id);
    this.systemKeys.set(id, key);
  }

  /** Id of an existing system, else undefined. */
  async findSystemId(db: Db, key: string): Promise<number | undefined> {
    const id = this.systemIds.get(key);
    if (id !== undefined) return id;
    const row = (await db.rows<[number]>(selectSystem, [key]))[0];
    if (row !== undefined) this.learnSystem(row[0], key);
    return row?.[0];
  }

  /** Id of a system, created (and committed) when missing. */
  async systemId(key: string): Promise<number> {
    const known = this.systemIds.get(key);
    if (known !== undefined) return known;
    if (typeof key !== 'string' || key === '')
      throw new Error(`system id must be a non-empty string, got ${String(key)}`);
    const inserted = await this.writer.query<[number]>({ ...insertSystem, values: [key], rowMode: 'array' });
    const row =
      inserted.rows[0] ??
      (await this.writer.query<[number]>({ ...selectSystem, values: [key], rowMode: 'array' })).rows[0];
    if (row === undefined) throw new Error(`system ${key} could not be created`);
    this.learnSystem(row[0], key);
    return row[0];
  }

  private async load(db: Db, systemId: number): Promise<void> {
    if (this.loaded.has(systemId)) return;
    for (const [id, key] of await db.rows<[number, string]>(selectStationsOf, [systemId]))
      this.learnStation(systemId, id, key);
    this.loaded.add(systemId);
  }

  /**
   * Make sure every key has an id (creating the missing ones, committed, in one statement); then
   * `stationId()` answers without a query.
   */
  async resolveStations(db: Db, systemId: number, keys: Iterable<string>): Promise<void> {
    await this.load(db, systemId);
    const known = this.stationsOf(systemId);
    let missing: Set<string> | undefined;
    for (const key of keys) {
      if (known.has(key)) continue;
      if (typeof key !== 'string' || key === '')
        throw new Error(`station id must be a non-empty string, got ${String(key)}`);
      (missing ??= new Set()).add(key);
    }
    if (missing === undefined) return;
    const list = [...missing];
    for (const [id, key] of (
      await this.writer.query<[number, string]>({
        ...insertStations,
        values: [systemId, list],
        rowMode: 'array',
      })
    ).rows) {
      this.learnStation(systemId, id, key);
    }
    const rest = list.filter((key) => !known.has(key));
    if (rest.length === 0) return;
    for (const [id, key] of (
      await this.writer.query<[number, string]>({
        ...selectStations,
        values: [systemId, rest],
        rowMode: 'array',
      })
    ).rows) {
      this.learnStation(systemId, id, key);
    }
  }

  /** Id of a station resolved before (resolveStations). */
  stationId(systemId: number, key: string): number {
    const id = this.stationIds.get(systemId)?.get(key);
    if (id === undefined) throw new Error(`station ${key} of system ${systemId} was not resolved`);
    return id;
  }

  /** Id of an existing station, else undefined. */
  async findStationId(db: Db, systemId: number, key: string): Promise<number | undefined> {
    await this.load(db, systemId);
    const id = this.stationIds.get(systemId)?.get(key);
    if (id !== undefined) return id;
    // Perhaps added by another process since we loaded.
    const row = (await db.rows<[number, string]>(selectStations, [systemId, [key]]))[0];
    if (row !== undefined) this.learnStation(systemId, row[0], key);
    return row?.[0];
  }

  /** Load the keys of station and system ids this process has not seen yet (written by others). */
  async ensureKeys(db: Db, stationIds: Iterable<number>, systemIds: Iterable<number> = []): Promise<void> {
    const stations: number[] = [];
    for (const id of stationIds) if (id !== 0 && !this.stationKeys.has(id)) stations.push(id);
    if (stations.length > 0) {
      for (const [id, sys, key] of await db.rows<[number, number, string]>(selectStationKeys, [stations]))
        this.learnStation(sys, id, key);
    }
    const systems: number[] = [];
    for (const id of systemIds) if (!this.systemKeys.has(id)) systems.push(id);
    if (systems.length > 0) {
      for (const [id, key] of await db.rows<[number, string]>(selectSystemKeys, [systems]))
        this.learnSystem(id, key);
    }
  }

  peekStationKey(id: number): string | undefined {
    return this.stationKeys.get(id);
  }

  peekSystemKey(id: number): string | undefined {
    return this.systemKeys.get(id);
  }

  /** Key of a station id (call ensureKeys first for ids written by others). */
  stationKey(id: number): string {
    const key = this.stationKeys.get(id);
    if (key === undefined) throw new Error(`unknown station id ${id} in the database`);
    return key;
  }
}
