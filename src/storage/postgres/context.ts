import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import { describeError, isConnectionError } from './connection.js';

/** A statement: named ones are prepared once per connection (parse + plan saved by the server). */
export interface Stmt {
  name?: string;
  text: string;
}

export function stmt(name: string, text: string): Stmt {
  return { name: `dockwatch_${name}`, text };
}

/** Something that runs statements: the pool (one statement, autocommit) or a transaction. */
export interface Db {
  rows<R extends unknown[]>(s: Stmt, values?: unknown[]): Promise<R[]>;
  /** Rows affected. */
  run(s: Stmt, values?: unknown[]): Promise<number>;
}

function config(s: Stmt, values: unknown[] | undefined): pg.QueryArrayConfig {
  return s.name === undefined ? { text: s.text, values: values ?? [], rowMode: 'array' } : { name: s.name, text: s.text, values: values ?? [], rowMode: 'array' };
}

/**
 * One transaction, or one savepoint inside a batch's transaction. Caches that mirror rows
 * (dictionary ids, the diff-state mirror) stage their changes here: `onCommit` hooks run when the
 * outermost transaction commits, `onRollback` hooks when this scope or an enclosing one rolls back.
 * `local` holds per-scope staged values (looked up through the parent chain).
 */
export class Tx implements Db {
  private commitHooks: (() => void)[] = [];
  private rollbackHooks: (() => void)[] = [];
  readonly local = new Map<string, unknown>();

  constructor(
    readonly client: pg.PoolClient,
    readonly parent: Tx | null,
  ) {}

  async rows<R extends unknown[]>(s: Stmt, values?: unknown[]): Promise<R[]> {
    return (await this.client.query<R>(config(s, values))).rows;
  }

  async run(s: Stmt, values?: unknown[]): Promise<number> {
    return (await this.client.query(config(s, values))).rowCount ?? 0;
  }

  onCommit(hook: () => void): void {
    this.commitHooks.push(hook);
  }

  onRollback(hook: () => void): void {
    this.rollbackHooks.push(hook);
  }

  /** A staged value of this scope or an enclosing one. */
  lookup(key: string): unknown {
    for (let t: Tx | null = this; t !== null; t = t.parent) {
      const v = t.local.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Savepoint released: its staged values and hooks now belong to the enclosing scope. */
  mergeInto(parent: Tx): void {
    for (const [k, v] of this.local) parent.local.set(k, v);
    parent.commitHooks.push(...this.commitHooks);
    parent.rollbackHooks.push(...this.rollbackHooks);
  }

  committed(): void {
    for (const hook of this.commitHooks) hook();
  }

  rolledBack(): void {
    for (const hook of this.rollbackHooks) hook();
  }
}

interface Active {
  tx: Tx;
  /** True while a write or read holds the transaction: nested calls then run directly. */
  held: boolean;
  /** Calls inside a batch take turns on its one connection. */
  queue: Promise<unknown>;
}

/**
 * Transactions over the pool. Outside `batch`, each write is its own transaction on a connection
 * of the pool, and reads go to any connection. Inside `batch` (tracked with AsyncLocalStorage, so
 * unrelated concurrent callers are not drawn in), every call uses the batch's connection in turn,
 * sees the batch's uncommitted writes, and each write is a savepoint: a failed write undoes only
 * itself, as nested transactions do in the SQLite store.
 */
export class PgContext {
  private readonly als = new AsyncLocalStorage<Active>();

  constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
  ) {}

  /** A statement outside any transaction (inside a batch: on the batch's connection). */
  readonly db: Db = {
    rows: <R extends unknown[]>(s: Stmt, values?: unknown[]) => this.read((db) => db.rows<R>(s, values)),
    run: (s: Stmt, values?: unknown[]) => this.read((db) => db.run(s, values)),
  };

  private fail(err: unknown): never {
    throw describeError(err, this.url);
  }

  /** Run `fn` with the batch's transaction when there is one (taking its turn), else with the pool. */
  async read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const active = this.als.getStore();
    try {
      if (active === undefined) return await fn(this.poolDb);
      if (active.held) return await fn(active.tx);
      return await this.turn(active, () => fn(active.tx));
    } catch (err) {
      this.fail(err);
    }
  }

  private readonly poolDb: Db = {
    rows: async <R extends unknown[]>(s: Stmt, values?: unknown[]) => (await this.pool.query<R>(config(s, values))).rows,
    run: async (s: Stmt, values?: unknown[]) => (await this.pool.query(config(s, values))).rowCount ?? 0,
  };

  private turn<T>(active: Active, fn: () => Promise<T>): Promise<T> {
    const run = active.queue.then(() => this.als.run({ ...active, held: true }, fn));
    active.queue = run.catch(() => undefined);
    return run;
  }

  /** One transaction (a savepoint inside a batch). */
  async write<T>(fn: (tx: Tx) => Promise<T>, isolation = ''): Promise<T> {
    const active = this.als.getStore();
    try {
      if (active === undefined) {
        return await this.transaction((tx) => this.als.run({ tx, held: true, queue: Promise.resolve() }, () => fn(tx)), `BEGIN${isolation}`);
      }
      if (active.held) return await this.savepoint(active.tx, fn);
      return await this.turn(active, () => this.savepoint(active.tx, fn));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Several reads from one snapshot (REPEATABLE READ); inside a batch, the batch's transaction. */
  snapshot<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.write(fn, ' ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async batch<T>(fn: () => Promise<T>): Promise<T> {
    if (this.als.getStore() !== undefined) return fn();
    try {
      return await this.transaction((tx) => this.als.run({ tx, held: false, queue: Promise.resolve() }, fn), 'BEGIN');
    } catch (err) {
      this.fail(err);
    }
  }

  private async transaction<T>(fn: (tx: Tx) => Promise<T>, begin: string): Promise<T> {
    const client = await this.pool.connect();
    const tx = new Tx(client, null);
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await fn(tx);
      await client.query('COMMIT');
      tx.committed();
      return result;
    } catch (err) {
      tx.rolledBack();
      if (isConnectionError(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      throw err;
    } finally {
      // A connection that failed is destroyed, not returned to the pool.
      client.release(broken);
    }
  }

  private async savepoint<T>(parent: Tx, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const tx = new Tx(parent.client, parent);
    await tx.client.query('SAVEPOINT dockwatch_write');
    try {
      const result = await this.als.run({ tx, held: true, queue: Promise.resolve() }, () => fn(tx));
      await tx.client.query('RELEASE SAVEPOINT dockwatch_write');
      tx.mergeInto(parent);
      return result;
    } catch (err) {
      tx.rolledBack();
      if (!isConnectionError(err)) await tx.client.query('ROLLBACK TO SAVEPOINT dockwatch_write');
      throw err;
    }
  }
}
