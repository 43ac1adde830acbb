/** The storage folder's face: the interfaces, and openStore() that picks the adapter by URL. */
import type { Logger } from '../log/index.js';
import type { Store } from './types.js';
import { openSqliteStore } from './sqlite/index.js';

export type * from './types.js';
export { openSqliteStore, StoreOpenError, InvalidEventError } from './sqlite/index.js';
// The server backends are imported from their own folders (./postgres, ./dynamodb) and loaded by
// openStore() only when a URL asks for them: pg and the AWS SDK cost the embedded watcher several
// MB of heap for nothing (docs/performance.md §3).
export { activityTotals, lastActivitySlots, scanActivity } from './activity-totals.js';

export interface OpenStoreOptions {
  logger?: Logger;
  /** SQLite page cache in KiB (default 16 MiB); a long-running service can do with less. */
  sqliteCacheKiB?: number;
  /** PostgreSQL connections (default 5): `collect` of many systems writes for all of them at once. */
  poolSize?: number;
}

/** Where a plain path or a `sqlite:` URL points; null for other schemes. */
export function sqlitePathOf(url: string): string | null {
  if (url.startsWith('sqlite:')) {
    // sqlite:data/x.sqlite, sqlite://data/x.sqlite (relative), sqlite:///var/lib/x.sqlite (absolute)
    const rest = url.slice('sqlite:'.length);
    const file = rest.startsWith('//') ? rest.slice(2) : rest;
    return file === '' ? null : file;
  }
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url);
  // A one-letter "scheme" is a Windows drive (C:\…): a path.
  return scheme === null ? url : null;
}

/**
 * Open the store at `url` and apply pending migrations.
 * - `sqlite:PATH`, `sqlite:///abs/path` or a plain path → the embedded SQLite store;
 * - `postgres://…` / `postgresql://…` → the PostgreSQL store (`?schema=name` picks the schema, default public);
 * - `dynamodb://TABLE?region=…&endpoint=…` → the DynamoDB store (see dynamodb/index.ts).
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (url.trim() === '')
    throw new Error('store URL is empty: give a path such as ./data/dockwatch.sqlite or a sqlite: URL');
  const logger = opts.logger !== undefined ? { logger: opts.logger } : {};
  const server = /^postgres(ql)?:\/\//i.test(url)
    ? (await import('./postgres/index.js')).openPostgresStore({
        url,
        ...logger,
        ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
      })
    : /^dynamodb:\/\//i.test(url)
      ? (await import('./dynamodb/index.js')).openDynamoStore({ url, ...logger })
      : null;
  if (server !== null) {
    const store = server;
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }
  const file = sqlitePathOf(url);
  if (file === null) {
    throw new Error(
      `unsupported store URL ${url}: use a file path, sqlite:PATH, postgres://… or dynamodb://TABLE`,
    );
  }
  const store = openSqliteStore({
    path: file,
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    ...(opts.sqliteCacheKiB !== undefined ? { cacheKiB: opts.sqliteCacheKiB } : {}),
  });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
