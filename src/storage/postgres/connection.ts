import pg from 'pg';

/**
 * The pool: connection settings, number parsing, and errors that say what happened.
 * The schema is set per connection through `search_path` (options `-c search_path=…`), so every
 * statement names tables without a schema and tests or tenants can share one database.
 */

/** The server cannot be reached or dropped the connection; the pool reconnects on the next call. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** Schema names are put into SQL text (search_path, CREATE SCHEMA): allow only plain identifiers. */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(
      `invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`,
    );
  }
  return schema;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

// Our bigint columns (offsets, POSIX seconds, ids) stay far below 2^53: numbers, not strings.
// Set per pool (config.types), not globally: other users of `pg` in the process keep the defaults.
const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${text} is beyond the safe integer range`);
  return n;
}
const int8ArrayParser = (pg.types.getTypeParser as (oid: number) => (text: string) => unknown)(
  INT8_ARRAY_OID,
);
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    if (oid === INT8_OID) return parseInt8;
    if (oid === INT8_ARRAY_OID) return (text: string) => (int8ArrayParser(text) as string[]).map(parseInt8);
    const get = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => unknown;
    return format === undefined ? get(oid) : get(oid, format);
  },
};

export interface PoolOptions {
  url: string;
  schema: string;
  /** Connections (default 5): a store does one thing at a time per caller, the machine has few cores. */
  poolSize?: number;
  /**
   * How long opening a connection may take before failing (default 5 s): a down server fails fast.
   * Waiting for a busy pool's connection is not limited: PgContext queues its callers first.
   */
  connectTimeoutMs?: number;
  /** false: commits return before their WAL reaches the disk (see PostgresStoreOptions). */
  synchronousCommit?: boolean;
  onIdleError?: (err: Error) => void;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 5,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'dockwatch',
    options: `-c search_path=${checkSchemaName(opts.schema)}${opts.synchronousCommit === false ? ' -c synchronous_commit=off' : ''}`,
    types,
  });
  // An idle connection dropped by the server (restart, admin kill) emits 'error' on the pool.
  // Unhandled, it would crash the process; the pool has already discarded the client.
  pool.on('error', (err) => opts.onIdleError?.(err));
  return pool;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether an error means "the server is gone" rather than "the statement is wrong": socket errors,
 * the pool's timeout, and SQLSTATE classes 08 (connection exception) and 57P (operator
 * intervention: shutdown, restart, terminated backend).
 */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = 'code' in err ? String(err.code) : '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i.test(
    message,
  );
}

/** Turn a connection failure into a StoreUnavailableError naming the server; others pass through. */
export function describeError(err: unknown, url: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  // 28xxx: authentication / unknown role; 3D000: no such database.
  if (code.startsWith('28') || code === '3D000') {
    return new Error(
      `PostgreSQL at ${redactUrl(url)} refused dockwatch: ${message} (check the user, password and database of the URL)`,
      { cause: err },
    );
  }
  if (!isConnectionError(err) || err instanceof StoreUnavailableError) return err;
  return new StoreUnavailableError(
    `PostgreSQL at ${redactUrl(url)} is unavailable (${message}); nothing of this call was committed unless the ` +
      'connection dropped during COMMIT, so reload committed offsets before redoing work; the next call reconnects',
    { cause: err },
  );
}
