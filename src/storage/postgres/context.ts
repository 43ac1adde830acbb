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
  return s.name === undefined
    ? { text: s.text, values: values ?? [], rowMode: 'array' }
    : { name: s.name, text: s.text, values: values ?? [], rowMode: 'array' };
}

/**
 * One transaction, a savepoint inside a batch's transaction, or (autocommit) a run of statements
 * that each commit alone — for writes whose effect is one statement.
 *
 * Round trips are the cost of a commit here (each is a wake-up of both processes), so BEGIN /
 * SAVEPOINT are not sent alone: they wait in `opening` and go with the first statement — in one
 * simple-protocol message when that statement is `simple()` text.
 *
 * Caches that mirror rows (the diff-state mirror) follow commits here: `onCommit` hooks run when
 * the outermost transaction commits, `onRollback` hooks when this scope or an enclosing one rolls
 * back.
 */
export class Tx implements Db {
  private commitHooks: (() => void)[] = [];
  private rollbackHooks: (() => void)[] = [];
  /** The statement not sent yet that opens this scope (BEGIN, SAVEPOINT), or null once sent. */
  private opening: string | null;
  /** Something was sent: there is a transaction or savepoint to end. */
  opened = false;

  constructor(
    readonly client: pg.PoolClient,
    readonly parent: Tx | null,
    opening: string | null,
  ) {
    this.opening = opening;
  }

  /** The opening statements still to send, the enclosing scopes' first; marks them sent. */
  private takeOpening(): string | null {
    const outer = this.parent?.takeOpening() ?? null;
    const own = this.opening;
    if (own !== null) {
      this.opening = null;
      this.opened = true;
    }
    return outer === null ? own : own === null ? outer : `${outer}; ${own}`;
  }

  private async open(): Promise<void> {
    const text = this.takeOpening();
    if (text !== null) await this.client.query(text);
  }

  async rows<R extends unknown[]>(s: Stmt, values?: unknown[]): Promise<R[]> {
    await this.open();
    return (await this.client.query<R>(config(s, values))).rows;
  }

  async run(s: Stmt, values?: unknown[]): Promise<number> {
    await this.open();
    return (await this.client.query(config(s, values))).rowCount ?? 0;
  }

  /**
   * Several statements in one message (simple protocol: no parameters — put only validated
   * integers in `text`). Rows of each statement, in order. In READ COMMITTED each statement takes
   * its own snapshot, so a SELECT after a lock sees what committed before the lock was granted.
   */
  async simple(text: string): Promise<unknown[][][]> {
    const opening = this.takeOpening();
    // Our opening statements contain no ';' of their own.
    const head = opening === null ? 0 : opening.split(';').length;
    const full = opening === null ? text : `${opening}; ${text}`;
    const r = (await this.client.query({
      text: full,
      rowMode: 'array',
    } as pg.QueryArrayConfig)) as unknown as pg.QueryArrayResult | pg.QueryArrayResult[];
    const results = Array.isArray(r) ? r : [r];
    return results.slice(head).map((x) => x.rows);
  }

  onCommit(hook: () => void): void {
    this.commitHooks.push(hook);
  }

  onRollback(hook: () => void): void {
    this.rollbackHooks.push(hook);
  }

  /** Savepoint released: its hooks now belong to the enclosing scope. */
  mergeInto(parent: Tx): void {
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
  /** True while a call holds the transaction: nested calls then run directly. */
  held: boolean;
  /** Calls inside a batch take turns on its one connection. */
  queue: Promise<unknown>;
}

export type WriteMode = 'transaction' | 'autocommit' | 'snapshot';
const OPENING: Record<WriteMode, string | null> = {
  transaction: 'BEGIN',
  autocommit: null,
  snapshot: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
};

/**
 * Transactions over the pool. Outside `batch`, each write is its own transaction on a connection
 * of the pool, and reads go to any connection. Inside `batch` (tracked with AsyncLocalStorage, so
 * unrelated concurrent callers are not drawn in), every call uses the batch's connection in turn,
 * sees the batch's uncommitted writes, and each write is a savepoint: a failed write undoes only
 * itself, as nested transactions do in the SQLite store.
 */
export class PgContext {
  private readonly als = new AsyncLocalStorage<Active>();
  /**
   * Callers wait here, with no time limit, for one of the pool's connections. pg-pool applies
   * `connectionTimeoutMillis` both to opening a connection and to waiting for a busy pool: with
   * 200 collectors sharing 20 connections the wait alone passed 5 s, and every such write failed
   * ("timeout exceeded when trying to connect") and was retried with back-off (docs/performance.md
   * §6a). Past this gate the pool always has a free slot, so its timeout measures only the server.
   */
  private readonly gate: Gate;

  constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
  ) {
    this.gate = new Gate(pool.options.max ?? 10);
  }

  /** A statement outside any transaction (inside a batch: on the batch's connection). */
  readonly db: Db = {
    rows: <R extends unknown[]>(s: Stmt, values?: unknown[]) => this.read((db) => db.rows<R>(s, values)),
    run: (s: Stmt, values?: unknown[]) => this.read((db) => db.run(s, values)),
  };

  private readonly poolDb: Db = {
    rows: async <R extends unknown[]>(s: Stmt, values?: unknown[]) =>
      (await this.gate.run(() => this.pool.query<R>(config(s, values)))).rows,
    run: async (s: Stmt, values?: unknown[]) =>
      (await this.gate.run(() => this.pool.query(config(s, values)))).rowCount ?? 0,
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

  private turn<T>(active: Active, fn: () => Promise<T>): Promise<T> {
    const run = active.queue.then(() => this.als.run({ ...active, held: true }, fn));
    active.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * One transaction (a savepoint inside a batch). `autocommit`: for a write whose effect is one
   * statement (atomic by itself); statements before it may only create dictionary rows, which are
   * harmless if the effect then fails. `snapshot`: reads from one REPEATABLE READ snapshot.
   */
  async write<T>(fn: (tx: Tx) => Promise<T>, mode: WriteMode = 'transaction'): Promise<T> {
    const active = this.als.getStore();
    try {
      if (active === undefined) return await this.transaction(fn, OPENING[mode], true);
      if (active.held) return await this.savepoint(active.tx, fn);
      return await this.turn(active, () => this.savepoint(active.tx, fn));
    } catch (err) {
      this.fail(err);
    }
  }

  async batch<T>(fn: () => Promise<T>): Promise<T> {
    if (this.als.getStore() !== undefined) return fn();
    try {
      return await this.transaction(() => fn(), 'BEGIN', false);
    } catch (err) {
      this.fail(err);
    }
  }

  private transaction<T>(fn: (tx: Tx) => Promise<T>, opening: string | null, held: boolean): Promise<T> {
    return this.gate.run(() => this.transactionOnPool(fn, opening, held));
  }

  private async transactionOnPool<T>(
    fn: (tx: Tx) => Promise<T>,
    opening: string | null,
    held: boolean,
  ): Promise<T> {
    const client = await this.pool.connect();
    const tx = new Tx(client, null, opening);
    let broken: Error | undefined;
    // A checked-out connection that dies between two statements emits 'error' (the pool listens
    // only to idle ones): note it; the next statement fails, and the connection is destroyed.
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      const result = await this.als.run({ tx, held, queue: Promise.resolve() }, () => fn(tx));
      if (tx.opened && opening !== null) await client.query('COMMIT');
      tx.committed();
      return result;
    } catch (err) {
      tx.rolledBack();
      if (isConnectionError(err)) broken ??= err as Error;
      else if (tx.opened && opening !== null)
        await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      throw err;
    } finally {
      client.off('error', onError);
      // A connection that failed is destroyed, not returned to the pool.
      client.release(broken);
    }
  }

  private async savepoint<T>(parent: Tx, fn: (tx: Tx) => Promise<T>): Promise<T> {
    // The enclosing BEGIN, if not sent yet, goes with the SAVEPOINT, which goes with the first statement.
    const tx = new Tx(parent.client, parent, 'SAVEPOINT dockwatch_write');
    try {
      const result = await this.als.run({ tx, held: true, queue: Promise.resolve() }, () => fn(tx));
      if (tx.opened) await tx.client.query('RELEASE SAVEPOINT dockwatch_write');
      tx.mergeInto(parent);
      return result;
    } catch (err) {
      tx.rolledBack();
      if (tx.opened && !isConnectionError(err))
        await tx.client.query('ROLLBACK TO SAVEPOINT dockwatch_write');
      throw err;
    }
  }
}

/** At most `size` calls run at once; the others wait their turn in arrival order. */
class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next caller (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
