import type { Logger } from '../../log/index.js';
import type { Store } from '../types.js';
import { checkSchemaName, createPool, redactUrl } from './connection.js';
import { PostgresStore } from './store.js';

export { StoreUnavailableError, isConnectionError } from './connection.js';
export {
  applyPgMigrations,
  PG_LATEST_VERSION,
  PG_MIGRATIONS,
  pgSchemaVersion,
  type PgMigration,
} from './migrate.js';
export { PostgresStore } from './store.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database; `?schema=name` picks the schema too. */
  url: string;
  logger?: Logger;
  /** Schema holding dockwatch's tables (created by migrate()); default `schema` of the URL, else `public`. */
  schema?: string;
  /** Connections in the pool (default 5). */
  poolSize?: number;
  /** How long a call waits for a connection before failing with StoreUnavailableError (default 5000). */
  connectTimeoutMs?: number;
  /**
   * Default true: a commit returns once its WAL is on disk (one fsync per commit, shared by
   * concurrent commits). false (`synchronous_commit = off`): a commit returns at once and the WAL
   * writer flushes within ~0.2–0.6 s; a crash of the *server* (not of dockwatch, and not a clean
   * restart) may then forget the last commits of that window, all-or-nothing per transaction, never
   * corrupting anything. Consumers then redo that work from their offsets; but a message already
   * acknowledged to NATS after such a commit would be lost. Keep true unless the source can replay.
   */
  synchronousCommit?: boolean;
}

/** The URL without dockwatch's own `schema` parameter (the driver would pass it on to the server). */
export function splitSchema(url: string): { url: string; schema: string | undefined } {
  const q = url.indexOf('?');
  if (q < 0) return { url, schema: undefined };
  const params = new URLSearchParams(url.slice(q + 1));
  const schema = params.get('schema') ?? undefined;
  params.delete('schema');
  const rest = params.toString();
  return { url: url.slice(0, q) + (rest === '' ? '' : `?${rest}`), schema };
}

/**
 * The PostgreSQL store. Connections are opened on first use; call `migrate()` before anything
 * else (openStore() does). When the server goes away, calls fail with StoreUnavailableError and
 * the pool reconnects on the next call.
 */
export function openPostgresStore(opts: PostgresStoreOptions): Store {
  const { url, schema: fromUrl } = splitSchema(opts.url);
  const schema = checkSchemaName(opts.schema ?? fromUrl ?? 'public');
  const logger = opts.logger;
  const poolOptions = {
    url,
    schema,
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    ...(opts.synchronousCommit !== undefined ? { synchronousCommit: opts.synchronousCommit } : {}),
    onIdleError: (err: Error) =>
      logger?.warn(
        { err: err.message, url: redactUrl(url) },
        'PostgreSQL connection lost; reconnecting on next use',
      ),
  };
  const pool = createPool({
    ...poolOptions,
    ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
  });
  // New dictionary ids commit on connections of their own, outside any caller's transaction.
  const dictPool = createPool({ ...poolOptions, poolSize: 2 });
  logger?.debug({ url: redactUrl(url), schema }, 'postgres store opened');
  return new PostgresStore(pool, dictPool, url, schema, logger);
}
