import type Database from 'better-sqlite3';
import { Dictionary } from './dictionary.js';

/**
 * What the parts of the SQLite store share: the connection, the id dictionary and the write
 * transaction. Every write method of the store is one `write()` call = one IMMEDIATE transaction
 * (IMMEDIATE takes the write lock up front, so a second process waits on busy_timeout instead of
 * failing on a read→write upgrade).
 */
export class SqliteContext {
  readonly dict: Dictionary;
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly rollbackHooks: (() => void)[] = [];

  constructor(readonly db: Database.Database) {
    this.dict = new Dictionary(db);
    this.tx = db.transaction((fn: () => unknown) => fn());
  }

  /** Caches that mirror rows must forget what a failed transaction rolled back. */
  onRollback(hook: () => void): void {
    this.rollbackHooks.push(hook);
  }

  /**
   * Several writes as one transaction (the replay commits ~100 documents at a time: one commit per
   * document would cost more than all the rest of the pipeline). Writes inside become savepoints.
   */
  async batch<T>(fn: () => Promise<T>): Promise<T> {
    if (this.db.inTransaction) return fn();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.dict.reload();
      for (const hook of this.rollbackHooks) hook();
      throw err;
    }
  }

  write<T>(fn: () => T): T {
    try {
      return this.tx.immediate(fn) as T;
    } catch (err) {
      this.dict.reload();
      for (const hook of this.rollbackHooks) hook();
      throw err;
    }
  }
}

/**
 * better-sqlite3 is synchronous; the Store interface is async (other backends are not). Run the
 * work now and turn a throw into a rejected promise, as an async backend would report it.
 */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
