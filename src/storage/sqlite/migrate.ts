import type Database from 'better-sqlite3';
import { sql as eventLog } from './migrations/001_event_log.js';
import { sql as storeState } from './migrations/002_store_state.js';
import { sql as checkpointBinary } from './migrations/003_checkpoint_binary.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: never edit a migration that has shipped, add the next number instead. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'event_log', sql: eventLog },
  { version: 2, name: 'store_state', sql: storeState },
  { version: 3, name: 'checkpoint_binary', sql: checkpointBinary },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at_sec INTEGER NOT NULL
) STRICT`;

/** Highest applied version, 0 for a new database. */
export function schemaVersion(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Apply the migrations above the database's version, up to `targetVersion`, each in its own
 * IMMEDIATE transaction (a second process starting at the same time waits, then sees it applied).
 * Idempotent. Returns the versions applied now.
 */
export function applyMigrations(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  targetVersion = Number.POSITIVE_INFINITY,
): number[] {
  for (let i = 0; i < migrations.length; i++) {
    if (migrations[i]!.version !== i + 1)
      throw new Error(
        `migrations must be numbered 1, 2, 3…: found ${migrations[i]!.version} at position ${i + 1}`,
      );
  }
  db.exec(CREATE_TABLE);
  const latest = migrations.length;
  const current = schemaVersion(db);
  if (current > latest) {
    throw new Error(
      `database schema is at version ${current}, newer than this dockwatch knows (${latest}): upgrade dockwatch or use another database`,
    );
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at_sec) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= current || m.version > targetVersion) continue;
    const step = db.transaction(() => {
      if (schemaVersion(db) >= m.version) return false; // applied meanwhile by another process
      db.exec(m.sql);
      record.run(m.version, m.name, Math.floor(Date.now() / 1000));
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return applied;
}
