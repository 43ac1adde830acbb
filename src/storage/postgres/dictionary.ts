import { stmt, Tx, type Db } from './context.js';

const selectSystem = stmt('dict_select_system', 'SELECT id FROM systems WHERE key = $1');
const selectSystemKeys = stmt('dict_select_system_keys', 'SELECT id, key FROM systems WHERE id = ANY($1::integer[])');
const insertSystem = stmt(
  'dict_insert_system',
  'INSERT INTO systems (key) VALUES ($1) ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id',
);
const selectStationsOf = stmt('dict_select_stations_of', 'SELECT id, key FROM stations WHERE system_id = $1');
const selectStation = stmt('dict_select_station', 'SELECT id FROM stations WHERE system_id = $1 AND key = $2');
const selectStationKeys = stmt('dict_select_station_keys', 'SELECT id, system_id, key FROM stations WHERE id = ANY($1::integer[])');
// Sorted, so that two processes adding the same new stations lock them in the same order (no deadlock).
const insertStations = stmt(
  'dict_insert_stations',
  `INSERT INTO stations (system_id, key) SELECT $1, k FROM unnest($2::text[]) AS k ORDER BY k
   ON CONFLICT (system_id, key) DO UPDATE SET key = excluded.key RETURNING id, key`,
);

const txOf = (db: Db): Tx | undefined => (db instanceof Tx ? db : undefined);

/**
 * Integer ids for system and station keys, as in the SQLite store, cached in memory both ways.
 * Ids are immutable once committed, so the cache is shared by every call of the process. An id
 * created inside a transaction is staged in that transaction (Tx.local: `s:`/`t:` key → id,
 * `ks:`/`kt:` id → key) and joins the cache only when it commits: a concurrent call never uses an
 * id that may still roll back. A system's stations are loaded in one query when first needed.
 *
 * Every method takes the Db it may query: the pool, or a transaction (whose staged ids it sees).
 */
export class PgDictionary {
  private readonly systemIds = new Map<string, number>();
  private readonly systemKeys = new Map<number, string>();
  private readonly stationIds = new Map<number, Map<string, number>>();
  private readonly stationKeys = new Map<number, string>();
  private readonly loaded = new Set<number>();

  private stationsOf(systemId: number): Map<string, number> {
    let m = this.stationIds.get(systemId);
    if (m === undefined) {
      m = new Map();
      this.stationIds.set(systemId, m);
    }
    return m;
  }

  /** Cache a row read through `db`, unless `db` is the transaction that created it (not committed). */
  private learnStation(db: Db, systemId: number, id: number, key: string): void {
    if (txOf(db)?.lookup(`kt:${id}`) !== undefined) return;
    this.stationsOf(systemId).set(key, id);
    this.stationKeys.set(id, key);
  }

  private learnSystem(db: Db, id: number, key: string): void {
    if (txOf(db)?.lookup(`ks:${id}`) !== undefined) return;
    this.systemIds.set(key, id);
    this.systemKeys.set(id, key);
  }

  /** Id of an existing system, else undefined. */
  async findSystemId(db: Db, key: string): Promise<number | undefined> {
    const id = this.systemIds.get(key) ?? (txOf(db)?.lookup(`s:${key}`) as number | undefined);
    if (id !== undefined) return id;
    const row = (await db.rows<[number]>(selectSystem, [key]))[0];
    if (row !== undefined) this.learnSystem(db, row[0], key);
    return row?.[0];
  }

  /** Id of a system, created when missing (inside `tx`). */
  async systemId(tx: Tx, key: string): Promise<number> {
    const known = this.systemIds.get(key) ?? (tx.lookup(`s:${key}`) as number | undefined);
    if (known !== undefined) return known;
    if (typeof key !== 'string' || key === '') throw new Error(`system id must be a non-empty string, got ${String(key)}`);
    const id = (await tx.rows<[number]>(insertSystem, [key]))[0]![0];
    this.stageSystem(tx, id, key);
    return id;
  }

  /** A system row written by `tx` (e.g. upsertSystem): known to `tx` now, to everyone on commit. */
  stageSystem(tx: Tx, id: number, key: string): void {
    if (this.systemIds.get(key) === id) return;
    tx.local.set(`s:${key}`, id);
    tx.local.set(`ks:${id}`, key);
    tx.onCommit(() => {
      this.systemIds.set(key, id);
      this.systemKeys.set(id, key);
    });
  }

  private async load(db: Db, systemId: number): Promise<void> {
    if (this.loaded.has(systemId)) return;
    for (const [id, key] of await db.rows<[number, string]>(selectStationsOf, [systemId])) this.learnStation(db, systemId, id, key);
    this.loaded.add(systemId);
  }

  /**
   * Make sure every key has an id, creating the missing ones inside `tx` in one statement; then
   * `stationId()` answers without a query.
   */
  async resolveStations(tx: Tx, systemId: number, keys: Iterable<string>): Promise<void> {
    await this.load(tx, systemId);
    const known = this.stationsOf(systemId);
    let missing: Set<string> | undefined;
    for (const key of keys) {
      if (known.has(key) || tx.lookup(`t:${systemId}:${key}`) !== undefined) continue;
      if (typeof key !== 'string' || key === '') throw new Error(`station id must be a non-empty string, got ${String(key)}`);
      (missing ??= new Set()).add(key);
    }
    if (missing === undefined) return;
    for (const [id, key] of await tx.rows<[number, string]>(insertStations, [systemId, [...missing]])) {
      tx.local.set(`t:${systemId}:${key}`, id);
      tx.local.set(`kt:${id}`, key);
      tx.onCommit(() => {
        this.stationsOf(systemId).set(key, id);
        this.stationKeys.set(id, key);
      });
    }
  }

  /** Id of a station resolved before in `tx` (resolveStations) or committed. */
  stationId(tx: Tx, systemId: number, key: string): number {
    const id = this.stationIds.get(systemId)?.get(key) ?? (tx.lookup(`t:${systemId}:${key}`) as number | undefined);
    if (id === undefined) throw new Error(`station ${key} of system ${systemId} was not resolved`);
    return id;
  }

  /** Id of an existing station, else undefined. */
  async findStationId(db: Db, systemId: number, key: string): Promise<number | undefined> {
    await this.load(db, systemId);
    const id = this.stationIds.get(systemId)?.get(key) ?? (txOf(db)?.lookup(`t:${systemId}:${key}`) as number | undefined);
    if (id !== undefined) return id;
    // Perhaps added by another process since we loaded.
    const row = (await db.rows<[number]>(selectStation, [systemId, key]))[0];
    if (row !== undefined) this.learnStation(db, systemId, row[0], key);
    return row?.[0];
  }

  /** Load the keys of station and system ids this process has not seen yet (written by others). */
  async ensureKeys(db: Db, stationIds: Iterable<number>, systemIds: Iterable<number> = []): Promise<void> {
    const tx = txOf(db);
    const stations: number[] = [];
    for (const id of stationIds) if (id !== 0 && !this.stationKeys.has(id) && tx?.lookup(`kt:${id}`) === undefined) stations.push(id);
    if (stations.length > 0) {
      for (const [id, sys, key] of await db.rows<[number, number, string]>(selectStationKeys, [stations])) this.learnStation(db, sys, id, key);
    }
    const systems: number[] = [];
    for (const id of systemIds) if (!this.systemKeys.has(id) && tx?.lookup(`ks:${id}`) === undefined) systems.push(id);
    if (systems.length > 0) {
      for (const [id, key] of await db.rows<[number, string]>(selectSystemKeys, [systems])) this.learnSystem(db, id, key);
    }
  }

  peekStationKey(db: Db, id: number): string | undefined {
    return this.stationKeys.get(id) ?? (txOf(db)?.lookup(`kt:${id}`) as string | undefined);
  }

  peekSystemKey(db: Db, id: number): string | undefined {
    return this.systemKeys.get(id) ?? (txOf(db)?.lookup(`ks:${id}`) as string | undefined);
  }

  /** Key of a station id (call ensureKeys first for ids written by others). */
  stationKey(db: Db, id: number): string {
    const key = this.stationKeys.get(id) ?? (txOf(db)?.lookup(`kt:${id}`) as string | undefined);
    if (key === undefined) throw new Error(`unknown station id ${id} in the database`);
    return key;
  }

  systemKey(db: Db, id: number): string {
    const key = this.systemKeys.get(id) ?? (txOf(db)?.lookup(`ks:${id}`) as string | undefined);
    if (key === undefined) throw new Error(`unknown system id ${id} in the database`);
    return key;
  }
}
