import type { Logger } from '../../log/index.js';
import type { Store } from '../types.js';
import { openDatabase } from './connection.js';
import { SqliteStore } from './store.js';

export { StoreOpenError } from './connection.js';
export { InvalidEventError } from '../codec/events.js';
export { applyMigrations, LATEST_VERSION, MIGRATIONS, schemaVersion, type Migration } from './migrate.js';

/**
 * The embedded store: one SQLite file (its folder is created), WAL mode. Call `migrate()` before
 * anything else (openStore() does). Throws StoreOpenError naming the file when it is not a usable
 * SQLite database.
 */
export function openSqliteStore(opts: { path: string; logger?: Logger; cacheKiB?: number }): Store {
  const db = openDatabase(opts.path, opts.cacheKiB);
  opts.logger?.debug({ file: opts.path }, 'sqlite store opened');
  return new SqliteStore(db, opts.path, opts.logger);
}
