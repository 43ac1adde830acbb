import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore, openStore, StoreOpenError, type Store } from '../../src/storage/index.js';
import {
  applyMigrations,
  LATEST_VERSION,
  MIGRATIONS,
  schemaVersion,
} from '../../src/storage/sqlite/index.js';
import { describeStoreContract, everyKind, rented, status } from './contract.js';

const root = mkdtempSync(path.join(tmpdir(), 'dockwatch-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => path.join(root, `t${++n}`, 'dockwatch.sqlite');

describeStoreContract('sqlite', () => Promise.resolve(openSqliteStore({ path: freshPath() })));

describe('SQLite store', () => {
  it('creates the folder, uses WAL with synchronous=NORMAL and foreign keys', async () => {
    const file = freshPath();
    const store = await openStore(file);
    await store.log.append([rented('a', 100)]);
    expect(existsSync(`${file}-wal`)).toBe(true);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    await store.close();
  });

  it('keeps data across close and reopen', async () => {
    const file = freshPath();
    let store: Store = await openStore(`sqlite:${file}`);
    const events = everyKind(1_760_000_000);
    await store.commitDiff('velib', events, {
      lastDocumentSec: 1_760_000_000,
      changed: [status('1', 3)],
      removed: [],
      capacities: new Map([['1', 20]]),
    });
    await store.log.commitOffset('activity', 5);
    await store.close();
    await store.close(); // idempotent

    store = await openStore(`sqlite://${file}`);
    expect(await store.log.read(0, 100)).toEqual(events.map((e, i) => ({ ...e, offset: i + 1 })));
    expect(await store.log.consumerOffset('activity')).toBe(5);
    const state = await store.loadDiffState('velib');
    expect(state.stations.get('1')).toEqual(status('1', 3));
    expect(state.capacities).toEqual(new Map([['1', 20]]));
    // Duplicates are still recognised after a restart (the dictionary is reloaded from the file).
    expect(await store.log.append(events)).toEqual([]);
    await store.close();
  });

  it('a second connection sees what the first writes (diff state, dictionary, log)', async () => {
    const file = freshPath();
    const writer = await openStore(file);
    const reader = await openStore(file);
    for (let d = 0; d < 70; d++) {
      // 70 > one image: the reader folds an image and deltas written by the other connection.
      const id = `s${d % 9}`;
      await writer.commitDiff('velib', [rented(id, 1000 + d * 60)], {
        lastDocumentSec: 1000 + d * 60,
        changed: [status(id, d)],
        removed: [],
        capacities: new Map([[id, d]]),
      });
      if (d % 10 === 0 || d === 69) {
        expect(await reader.loadDiffState('velib')).toEqual(await writer.loadDiffState('velib'));
        expect(await reader.log.read(0, 1000)).toEqual(await writer.log.read(0, 1000));
      }
    }
    await reader.close();
    await writer.close();
    const again = await openStore(file);
    expect((await again.loadDiffState('velib')).stations.get('s6')).toEqual(status('s6', 69));
    await again.close();
  });

  it('batch is one transaction: when fn throws, none of its commits stay', async () => {
    const store = await openStore(freshPath());
    await store.commitDiff('velib', [rented('1', 900)], {
      lastDocumentSec: 900,
      changed: [status('1', 9)],
      removed: [],
      capacities: new Map([['1', 5]]),
    });
    const before = await store.loadDiffState('velib');
    await expect(
      store.batch(async () => {
        await store.commitDiff('velib', [rented('new-station', 1000)], {
          lastDocumentSec: 1000,
          changed: [status('new-station', 1), status('1', 2)],
          removed: [],
          capacities: new Map([['1', 7]]),
        });
        await store.log.commitOffset('activity', 2);
        throw new Error('crash in the middle of a batch');
      }),
    ).rejects.toThrow('crash in the middle');
    expect(await store.log.lastOffset()).toBe(1);
    expect(await store.log.consumerOffset('activity')).toBe(0);
    expect(await store.loadDiffState('velib')).toEqual(before);
    // The dictionary forgot the rolled-back station: it is a new one again, and offsets go on gapless.
    const out = await store.commitDiff('velib', [rented('new-station', 1000)], {
      lastDocumentSec: 1000,
      changed: [],
      removed: [],
      capacities: new Map(),
    });
    expect(out.map((e) => e.offset)).toEqual([2]);
    expect((await store.log.read(1, 10))[0]).toMatchObject({ stationId: 'new-station', offset: 2 });
    await store.close();
  });

  it('upgrades a database at version 1 to the latest, keeping its events', async () => {
    const file = freshPath();
    const store0 = openSqliteStore({ path: file });
    await store0.close();
    const db = new Database(file);
    expect(applyMigrations(db, MIGRATIONS, 1)).toEqual([1]);
    expect(schemaVersion(db)).toBe(1);
    // Rows as version 1 wrote them: a system, a station, one batch with one rented event
    // (kind 4 = rented mechanical, station 1, then zigzag varints: count 2, after 3 1 0 10 0 0).
    db.exec(`INSERT INTO systems (id, key) VALUES (1, 'velib');
             INSERT INTO stations (id, system_id, key) VALUES (1, 1, '16107');
             INSERT INTO event_batches (first_offset, event_count, system_id, time_sec, events)
             VALUES (1, 1, 1, 1000, x'040104060200140000');`);
    db.close();

    const store = openSqliteStore({ path: file });
    await expect(store.log.lastOffset()).rejects.toThrow(
      `version 1, expected ${LATEST_VERSION}: call store.migrate()`,
    );
    await store.migrate();
    expect(await store.log.read(0, 10)).toEqual([
      {
        system: 'velib',
        stationId: '16107',
        timeSec: 1000,
        type: 'rented',
        bikeType: 'mechanical',
        count: 2,
        after: {
          bikes: { mechanical: 3, electric: 1, other: 0 },
          docksAvailable: 10,
          bikesDisabled: 0,
          docksDisabled: 0,
        },
        offset: 1,
      },
    ]);
    // The tables of migration 2 now work.
    await store.commitActivity('velib', 'activity', 1, [
      { stationId: '16107', day: 1, slot: 2, rented: 2, returned: 0 },
    ]);
    await store.migrate();
    await store.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    check.close();
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });

  it('reads a checkpoint written before migration 3 (JSON text only) after migrating', async () => {
    const file = freshPath();
    const store0 = openSqliteStore({ path: file });
    await store0.close();
    const db = new Database(file);
    expect(applyMigrations(db, MIGRATIONS, 2)).toEqual([1, 2]);
    // A poisson checkpoint as saved then: its pack as base64 inside the JSON.
    const old = { version: 1, detector: { v: 3, bin: Buffer.from('pack').toString('base64') }, machine: {} };
    db.prepare('INSERT INTO checkpoints (consumer, log_offset, state) VALUES (?, ?, ?)').run(
      'detector:velib:poisson',
      7,
      JSON.stringify(old),
    );
    db.close();
    const store = openSqliteStore({ path: file });
    await store.migrate();
    expect(await store.loadCheckpoint('detector:velib:poisson')).toEqual({ offset: 7, state: old });
    await store.close();
  });

  it('applies a new migration once and refuses a database newer than the code', async () => {
    const file = freshPath();
    mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    const extra = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: 'test_extra', sql: 'CREATE TABLE extra (x INTEGER) STRICT;' },
    ];
    expect(applyMigrations(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(applyMigrations(db, extra)).toEqual([extra.length]);
    expect(applyMigrations(db, extra)).toEqual([]);
    db.close();
    const store = openSqliteStore({ path: file });
    await expect(store.migrate()).rejects.toThrow(/newer than this dockwatch knows/);
    await store.close();
  });

  it('names the file when it is not a SQLite database', async () => {
    const file = path.join(root, 'corrupt.sqlite');
    writeFileSync(
      file,
      'this is not a database, just some text that is long enough to have a header……'.repeat(20),
    );
    let caught: unknown;
    try {
      openSqliteStore({ path: file });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreOpenError);
    expect((caught as Error).message).toContain(file);
    expect((caught as Error).message).toMatch(/not a usable SQLite database/);
    await expect(openStore(file)).rejects.toThrow(file);
  });

  it('openStore picks the adapter by URL', async () => {
    // postgres:// goes to the PostgreSQL adapter (its own suite): here, a role that does not exist.
    await expect(openStore('postgres://no_such_role_here@127.0.0.1:5432/test')).rejects.toThrow(
      /no_such_role_here/,
    );
    await expect(openStore('mysql://db/x')).rejects.toThrow(/unsupported store URL/);
    await expect(openStore('')).rejects.toThrow(/empty/);
    const store = await openStore(`sqlite:${freshPath()}`);
    expect(await store.log.lastOffset()).toBe(0);
    await store.close();
  });

  it('refuses to work before migrate() with a clear error', async () => {
    const store = openSqliteStore({ path: freshPath() });
    await expect(store.log.append([rented('a', 1)])).rejects.toThrow(/call store.migrate\(\) first/);
    await store.close();
  });
});
