import type Database from 'better-sqlite3';

/**
 * Integer ids for system and station keys, cached in memory both ways. Rows store a 1–2-byte varint
 * instead of the key string (Vélib' ids have up to 11 digits), and the hot path resolves a key with
 * one Map lookup.
 *
 * `systemId` / `stationId` create missing entries: call them inside the write transaction that
 * uses the id, and call `reload()` when that transaction fails, so that the cache forgets ids
 * rolled back with it.
 */
export class Dictionary {
  private systemIds = new Map<string, number>();
  private systemKeys: string[] = [];
  private stationIds = new Map<number, Map<string, number>>();
  private stationKeys: string[] = [];
  private readonly insertSystem: Database.Statement;
  private readonly insertStation: Database.Statement;
  private readonly selectSystem: Database.Statement;
  private readonly selectStation: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertSystem = db.prepare(
      'INSERT INTO systems (key) VALUES (?) ON CONFLICT (key) DO UPDATE SET key = key RETURNING id',
    );
    this.insertStation = db.prepare(
      'INSERT INTO stations (system_id, key) VALUES (?, ?) ON CONFLICT (system_id, key) DO UPDATE SET key = key RETURNING id',
    );
    this.selectSystem = db.prepare('SELECT id FROM systems WHERE key = ?').pluck();
    this.selectStation = db.prepare('SELECT id FROM stations WHERE system_id = ? AND key = ?').pluck();
    this.reload();
  }

  reload(): void {
    this.systemIds = new Map();
    this.systemKeys = [];
    this.stationIds = new Map();
    this.stationKeys = [];
    for (const [id, key] of this.db.prepare('SELECT id, key FROM systems').raw().iterate() as Iterable<
      [number, string]
    >) {
      this.systemIds.set(key, id);
      this.systemKeys[id] = key;
    }
    const rows = this.db.prepare('SELECT id, system_id, key FROM stations').raw().iterate() as Iterable<
      [number, number, string]
    >;
    for (const [id, systemId, key] of rows) this.stationsOf(systemId).set(key, id);
    for (const [, byKey] of this.stationIds) for (const [key, id] of byKey) this.stationKeys[id] = key;
  }

  private stationsOf(systemId: number): Map<string, number> {
    let m = this.stationIds.get(systemId);
    if (m === undefined) {
      m = new Map();
      this.stationIds.set(systemId, m);
    }
    return m;
  }

  /** Id of an existing system, or undefined; looks in the database when another connection added it. */
  findSystemId(key: string): number | undefined {
    const id = this.systemIds.get(key);
    if (id !== undefined) return id;
    const row = this.selectSystem.get(key) as number | undefined;
    if (row !== undefined) this.reload();
    return row;
  }

  systemId(key: string): number {
    let id = this.systemIds.get(key);
    if (id === undefined) {
      if (typeof key !== 'string' || key === '')
        throw new Error(`system id must be a non-empty string, got ${String(key)}`);
      id = (this.insertSystem.get(key) as { id: number }).id;
      this.systemIds.set(key, id);
      this.systemKeys[id] = key;
    }
    return id;
  }

  /** Id of an existing station, or undefined; looks in the database when another connection added it. */
  findStationId(systemId: number, key: string): number | undefined {
    const id = this.stationIds.get(systemId)?.get(key);
    if (id !== undefined) return id;
    const row = this.selectStation.get(systemId, key) as number | undefined;
    if (row !== undefined) this.reload();
    return row;
  }

  stationId(systemId: number, key: string): number {
    const byKey = this.stationsOf(systemId);
    let id = byKey.get(key);
    if (id === undefined) {
      if (typeof key !== 'string' || key === '')
        throw new Error(`station id must be a non-empty string, got ${String(key)}`);
      id = (this.insertStation.get(systemId, key) as { id: number }).id;
      byKey.set(key, id);
      this.stationKeys[id] = key;
    }
    return id;
  }

  systemKey(id: number): string {
    return this.systemKeys[id] ?? this.missing('system', id);
  }

  stationKey(id: number): string {
    return this.stationKeys[id] ?? this.missing('station', id);
  }

  /** An id written by another connection since we loaded: reload once, then it must be there. */
  private missing(what: 'system' | 'station', id: number): string {
    this.reload();
    const key = (what === 'system' ? this.systemKeys : this.stationKeys)[id];
    if (key === undefined) throw new Error(`unknown ${what} id ${id} in the database`);
    return key;
  }
}
