import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** Opening failed: the message names the file and says what to do; `cause` keeps SQLite's error. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(
    message: string,
    readonly file: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Open (creating it and its folder when missing) a SQLite file tuned for an append-heavy log.
 *
 * Durability: WAL with synchronous=NORMAL. A transaction is committed once its frames are written
 * to the WAL file; fsync happens only at checkpoints. So kill -9 of the process loses nothing
 * committed (the data is in the OS page cache and the WAL is replayed at the next open), and a
 * power loss or OS crash may drop the last few transactions but can never corrupt the database:
 * WAL frames carry checksums and an incomplete tail is ignored. Exactly-once is kept either way,
 * because a consumer's effects and its offset go in the same transaction and vanish together.
 * In exchange, a commit costs no fsync, which is what makes one transaction per document cheap.
 */
/** SQLite's page cache when the caller does not say: batch work (replay) reads and writes a lot. */
export const DEFAULT_CACHE_KIB = 16_384;

export function openDatabase(file: string, cacheKiB = DEFAULT_CACHE_KIB): Database.Database {
  const inMemory = file === ':memory:';
  if (!inMemory) {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    } catch (err) {
      throw new StoreOpenError(
        `cannot create the folder of the database ${file}: ${errorMessage(err)}`,
        file,
        { cause: err },
      );
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    throw new StoreOpenError(`cannot open the SQLite database ${file}: ${errorMessage(err)}`, file, {
      cause: err,
    });
  }
  try {
    // The first statements read the file header: a file that is not SQLite fails here, not later.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Another process (e.g. `dockwatch` CLI next to the watcher) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    // Without a limit the WAL file keeps its largest size forever after a burst.
    db.pragma('journal_size_limit = 67108864');
    // Negative: a size in KiB. Its pages stay resident once read, so it is part of the RSS.
    db.pragma(`cache_size = -${Math.max(64, Math.round(cacheKiB))}`);
    // Writes inside Store.batch() are savepoints, whose sub-journal (the pages as they were) would
    // go to a temporary file: 230 MB of 4 kB writes over the Bay Wheels replay. In memory it is
    // freed at each RELEASE, i.e. it holds the pages of one write at a time.
    db.pragma('temp_store = MEMORY');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    db.close();
    const code = errorCode(err);
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      throw new StoreOpenError(
        `${file} is not a usable SQLite database (${errorMessage(err)}): it is corrupt or not a dockwatch database; ` +
          'move it away to start afresh, or point the store at another file',
        file,
        { cause: err },
      );
    }
    throw new StoreOpenError(`cannot open the SQLite database ${file}: ${errorMessage(err)}`, file, {
      cause: err,
    });
  }
  return db;
}
