/** The storage folder's face: the interfaces, and openStore() that picks the adapter by URL. */
import type { Logger } from '../log/index.js';
import type { Store } from './types.js';
import { openSqliteStore } from './sqlite/index.js';
import { openPostgresStore } from './postgres/index.js';

export type * from './types.js';
export { openSqliteStore, StoreOpenError, InvalidEventError } from './sqlite/index.js';
export { openPostgresStore, StoreUnavailableError } from './postgres/index.js';

export interface OpenStoreOptions {
  logger?: Logger;
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
 * - `postgres://…` / `postgresql://…` → the PostgreSQL store (`?schema=name` picks the schema, default public).
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (url.trim() === '')
    throw new Error('store URL is empty: give a path such as ./data/dockwatch.sqlite or a sqlite: URL');
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const store = openPostgresStore({ url, ...(opts.logger !== undefined ? { logger: opts.logger } : {}) });
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
    throw new Error(`unsupported store URL ${url}: use a file path, sqlite:PATH or postgres://…`);
  }
  const store = openSqliteStore({
    path: file,
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
  });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
