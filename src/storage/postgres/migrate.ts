import type pg from 'pg';
import { checkSchemaName } from './connection.js';
import { sql as eventLog } from './migrations/001_event_log.js';
import { sql as storeState } from './migrations/002_store_state.js';
import { sql as checkpointBinary } from './migrations/003_checkpoint_binary.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: never edit a migration that has shipped, add the next number instead. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, name: 'event_log', sql: eventLog },
  { version: 2, name: 'store_state', sql: storeState },
  { version: 3, name: 'checkpoint_binary', sql: checkpointBinary },
];

export const PG_LATEST_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]?.version ?? 0;

/** Advisory lock class of dockwatch migrations ('dkw'); the key within it is the schema's hash. */
const LOCK_CLASS = 0x646b77;

/** Highest applied version in `schema`, 0 when the schema or its migrations table does not exist. */
export async function pgSchemaVersion(db: pg.Pool | pg.PoolClient, schema: string): Promise<number> {
  const table = `${checkSchemaName(schema)}.schema_migrations`;
  const exists = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  if (exists.rows[0]?.t == null) return 0;
  const r = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${table}`);
  return r.rows[0]?.v ?? 0;
}

/**
 * Apply the migrations above the schema's version (up to `targetVersion`), each in its own
 * transaction holding a transaction-level advisory lock on the schema: two processes starting at
 * once apply each migration once, the second waits and then finds it applied. DDL is
 * transactional in PostgreSQL, so a failed migration leaves nothing half-done. Creates the schema
 * when missing. Returns the versions applied now.
 */
export async function applyPgMigrations(
  pool: pg.Pool,
  schema: string,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
  targetVersion = Number.POSITIVE_INFINITY,
): Promise<number[]> {
  checkSchemaName(schema);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migrations must be numbered 1, 2, 3…: found ${m.version} at position ${i + 1}`);
  });
  const latest = migrations.length;
  const applied: number[] = [];
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    // Version 0 is the step that creates the schema and the migrations table.
    for (let version = 0; version <= Math.min(latest, targetVersion); version++) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
        if (version === 0) {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
          await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
          )`);
        }
        const current = await pgSchemaVersion(client, schema);
        if (current > latest) {
          throw new Error(
            `PostgreSQL schema ${schema} is at version ${current}, newer than this dockwatch knows (${latest}): upgrade dockwatch or use another schema`,
          );
        }
        const m = version === 0 ? undefined : migrations[version - 1];
        if (m !== undefined && current < m.version) {
          // search_path is this schema (connection option): the migration's tables land in it.
          await client.query(m.sql);
          await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [
            m.version,
            m.name,
          ]);
          applied.push(m.version);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
        throw err;
      }
    }
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
  return applied;
}
