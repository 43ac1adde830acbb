/**
 * The notification tables, in the same SQLite file as the pipeline's store but owned here: every
 * table has the `notify_` prefix and the versions live in their own `notify_schema_migrations`,
 * so the two schemas evolve independently. Append only: never edit a shipped migration.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

const V1 = `
CREATE TABLE notify_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

CREATE TABLE notify_webhooks (
  id INTEGER PRIMARY KEY,
  system TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  secret TEXT NOT NULL,
  station_ids TEXT,
  station_codes TEXT,
  area_lat REAL,
  area_lon REAL,
  area_radius_m REAL,
  states TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  created_ms INTEGER NOT NULL,
  deleted_ms INTEGER
) STRICT;

CREATE TABLE notify_push_subscriptions (
  id INTEGER PRIMARY KEY,
  system TEXT NOT NULL,
  endpoint TEXT NOT NULL UNIQUE,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  station_ids TEXT NOT NULL,
  station_codes TEXT NOT NULL,
  lang TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE notify_announcer (system TEXT PRIMARY KEY, cursor INTEGER NOT NULL) STRICT;

CREATE TABLE notify_stations (
  system TEXT NOT NULL,
  station_id TEXT NOT NULL,
  announced TEXT NOT NULL,
  pending TEXT,
  PRIMARY KEY (system, station_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE notify_announcements (
  id INTEGER PRIMARY KEY,
  system TEXT NOT NULL,
  station_id TEXT NOT NULL,
  change_offset INTEGER NOT NULL,
  to_state TEXT NOT NULL,
  from_state TEXT NOT NULL,
  time_sec INTEGER NOT NULL,
  held_sec INTEGER NOT NULL,
  payload TEXT NOT NULL,
  stale INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (system, station_id, change_offset, to_state)
) STRICT;

CREATE TABLE notify_outbox (
  id INTEGER PRIMARY KEY,
  announcement_id INTEGER NOT NULL REFERENCES notify_announcements (id),
  channel TEXT NOT NULL CHECK (channel IN ('webhook', 'push')),
  target_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  created_ms INTEGER NOT NULL,
  finished_ms INTEGER,
  UNIQUE (announcement_id, channel, target_id)
) STRICT;
CREATE INDEX notify_outbox_due ON notify_outbox (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX notify_outbox_target ON notify_outbox (channel, target_id, id);

CREATE TABLE notify_attempts (
  id INTEGER PRIMARY KEY,
  outbox_id INTEGER NOT NULL REFERENCES notify_outbox (id),
  attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  http_status INTEGER,
  error TEXT,
  outcome TEXT NOT NULL
) STRICT;
CREATE INDEX notify_attempts_outbox ON notify_attempts (outbox_id, attempt);
`;

/** Retention (sqlite-retention.ts) finds old finished deliveries and announcements by time, not by a scan. */
const V2 = `
CREATE INDEX notify_outbox_finished ON notify_outbox (finished_ms) WHERE status <> 'pending';
CREATE INDEX notify_announcements_created ON notify_announcements (created_ms);
`;

export const NOTIFY_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'notify_initial', sql: V1 },
  { version: 2, name: 'notify_retention_indexes', sql: V2 },
];

function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS v FROM notify_schema_migrations').get() as {
    v: number | null;
  };
  return row.v ?? 0;
}

/** Idempotent; each migration in its own IMMEDIATE transaction (a second process waits, then skips). */
export function applyNotifyMigrations(db: Database.Database): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS notify_schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_sec INTEGER NOT NULL) STRICT`);
  const latest = NOTIFY_MIGRATIONS.length;
  const found = currentVersion(db);
  if (found > latest) {
    throw new Error(
      `notification schema is at version ${found}, newer than this dockwatch knows (${latest}): upgrade dockwatch`,
    );
  }
  const applied: number[] = [];
  const record = db.prepare(
    'INSERT INTO notify_schema_migrations (version, name, applied_at_sec) VALUES (?, ?, ?)',
  );
  for (const m of NOTIFY_MIGRATIONS) {
    const step = db.transaction(() => {
      if (currentVersion(db) >= m.version) return false;
      db.exec(m.sql);
      record.run(m.version, m.name, Math.floor(Date.now() / 1000));
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return applied;
}

/**
 * A second connection to the store's file (or its own file). WAL lets it write between the
 * pipeline's transactions; busy_timeout makes it wait for the write lock instead of failing.
 */
export function openNotifyDatabase(file: string): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw new Error(
      `cannot open the notification database ${file}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
  return db;
}
