/**
 * Test helpers for the PostgreSQL store: is the server up, a store in a schema of its own, and
 * dropping it afterwards. Tests talk to 127.0.0.1 only (DOCKWATCH_TEST_DATABASE_URL overrides).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../../src/storage/postgres/index.js';
import type { Store } from '../../src/storage/index.js';

export const PG_URL = process.env['DOCKWATCH_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Null when a trivial query works, else why not. */
export async function pgUnreachableReason(url = PG_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const reason = await pgUnreachableReason();
export const pgUp = reason === null;
if (!pgUp) console.warn(`[test/storage] PostgreSQL tests skipped: no server at ${PG_URL} (${reason})`);

const run = randomBytes(4).toString('hex');
let n = 0;
/** A schema name no other test (or test run) uses. */
export function uniqueSchema(tag = 't'): string {
  return `dockwatch_test_${run}_${tag}_${++n}`;
}

/** A store (not migrated) in a fresh schema. */
export function freshPgStore(schema = uniqueSchema(), url = PG_URL): Store {
  return openPostgresStore({ url, schema });
}

export async function dropSchema(schema: string, url = PG_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** One query as the admin, in a given schema. */
export async function adminQuery<R extends pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
  url = PG_URL,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
