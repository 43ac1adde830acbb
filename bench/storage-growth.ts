/**
 * Database growth and write cost of a store (SQLite or PostgreSQL, by URL) for synthetic
 * Vélib'-sized days: 1,500 stations, one document a minute, ~200 k rentals/returns a day
 * (Zipf-like station weights, commuting peaks) plus ~10 % availability changes; per document one
 * commitDiff and one commitActivity, every 30 documents a commitDetection with a checkpoint of
 * every station's state — the way the pipeline writes.
 *
 *   npx tsx bench/storage-growth.ts [--store URL] [--days 2] [--async] [--keep]
 *
 *   --store   a SQLite path or sqlite: URL (default: a fresh file in a temp folder), or
 *             postgres://… (a fresh schema in that database, dropped at the end unless --keep)
 *   --async   PostgreSQL only: synchronous_commit = off, to see what the WAL fsync of each commit costs
 *
 * Size after each day: SQLite = the file after wal_checkpoint(TRUNCATE); PostgreSQL = sum of
 * pg_total_relation_size (heap + TOAST + indexes) over the schema's tables after a VACUUM (the
 * steady state autovacuum keeps). The first day carries the fixed part (dictionaries, diff state,
 * station information): the growth is the last day's. Then a timing of commitDiff for documents of
 * exactly 200 events. Prints `GROWTH: x MB/day per 1,000 stations`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { FeedEvent } from '../src/events/types.js';
import type { StationStatus } from '../src/feed/model.js';
import { openStore, sqlitePathOf, type SlotCount, type Store } from '../src/storage/index.js';
import { openPostgresStore, splitSchema } from '../src/storage/postgres/index.js';

const STATIONS = 1500;
const DOCS_PER_DAY = 1440;
const RENT_RETURN_PER_DAY = 200_000;
const SYSTEM = 'velib';
const DAY0_SEC = 1_760_000_400 - (1_760_000_400 % 86_400); // a UTC midnight

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const days = Number(arg('days') ?? 2) || 2;
const keep = args.includes('--keep');
const storeArg = arg('store') ?? arg('url'); // --url: the old storage-growth-postgres.ts flag
const isPostgres = storeArg !== undefined && /^postgres(ql)?:\/\//i.test(storeArg);
const schema = `dockwatch_bench_${randomBytes(3).toString('hex')}`;
const tmp = storeArg === undefined ? mkdtempSync(path.join(tmpdir(), 'dockwatch-growth-')) : null;
const sqliteFile = isPostgres
  ? null
  : tmp !== null
    ? path.join(tmp, 'growth.sqlite')
    : sqlitePathOf(storeArg!);
if (!isPostgres && sqliteFile === null)
  throw new Error(`--store ${storeArg}: not a SQLite path nor a postgres:// URL`);
const pgUrl = isPostgres ? splitSchema(storeArg).url : null;

/** Deterministic PRNG (mulberry32): two runs write the same rows. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(42);
const cumulative: number[] = [];
let sum = 0;
for (let i = 0; i < STATIONS; i++) cumulative.push((sum += 1 / (1 + i / 60)));
function pickStation(): number {
  const x = random() * sum;
  let lo = 0;
  let hi = STATIONS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const profile = Array.from({ length: DOCS_PER_DAY }, (_, m) => {
  const h = m / 60;
  return (
    0.15 +
    Math.exp(-((h - 8.5) ** 2) / 2) +
    1.2 * Math.exp(-((h - 18) ** 2) / 3) +
    0.5 * Math.exp(-((h - 13) ** 2) / 4)
  );
});
const profileSum = profile.reduce((a, b) => a + b, 0);

const ids = Array.from({ length: STATIONS }, (_, i) => String(100_000_000 + i * 7919));
const capacities = new Map<string, number | null>(ids.map((id, i) => [id, 20 + (i % 30)]));
const statuses: StationStatus[] = ids.map((id, i) => ({
  stationId: id,
  code: String(10_000 + i),
  bikes: { mechanical: 8, electric: 4, other: 0 },
  bikesDisabled: 0,
  docksAvailable: 8 + (i % 30),
  docksDisabled: 0,
  isInstalled: true,
  isRenting: true,
  isReturning: true,
  lastReportedSec: DAY0_SEC,
}));
const afterOf = (
  s: StationStatus,
): {
  bikes: StationStatus['bikes'];
  docksAvailable: number;
  bikesDisabled: number;
  docksDisabled: number;
} => ({
  bikes: { ...s.bikes },
  docksAvailable: s.docksAvailable,
  bikesDisabled: s.bikesDisabled,
  docksDisabled: s.docksDisabled,
});

/** One minute's document: events (one per station, type and bike type), changed stations, slot increments. */
function makeDocument(timeSec: number, moves: number, slot: number, day: number, prevSec: number | null) {
  const events: FeedEvent[] = [
    {
      system: SYSTEM,
      timeSec,
      type: 'snapshot',
      stations: STATIONS,
      intervalSec: prevSec === null ? null : timeSec - prevSec,
    },
  ];
  const merged = new Map<string, FeedEvent & { type: 'rented' | 'returned' }>();
  const touched = new Set<number>();
  const increments = new Map<string, SlotCount>();
  for (let k = 0; k < moves; k++) {
    const i = pickStation();
    const s = statuses[i]!;
    const bikeType = random() < 0.4 ? 'electric' : 'mechanical';
    const type = random() < 0.5 ? 'rented' : 'returned';
    const delta = type === 'rented' ? -1 : 1;
    s.bikes[bikeType] = Math.max(0, s.bikes[bikeType] + delta);
    s.docksAvailable = Math.max(0, s.docksAvailable - delta);
    s.lastReportedSec = timeSec;
    const key = `${i}|${type}|${bikeType}`;
    const existing = merged.get(key);
    if (existing !== undefined) {
      existing.count++;
      existing.after = afterOf(s);
    } else {
      const e = {
        system: SYSTEM,
        timeSec,
        stationId: s.stationId,
        type,
        bikeType,
        count: 1,
        after: afterOf(s),
      } as const;
      const copy = { ...e, after: afterOf(s) };
      merged.set(key, copy);
      events.push(copy);
    }
    touched.add(i);
    const inc = increments.get(s.stationId) ?? { stationId: s.stationId, day, slot, rented: 0, returned: 0 };
    if (type === 'rented') inc.rented++;
    else inc.returned++;
    increments.set(s.stationId, inc);
  }
  for (let k = 0; k < moves / 10; k++) {
    const i = pickStation();
    const s = statuses[i]!;
    if (
      touched.has(i) &&
      events.some((e) => e.type === 'availability_changed' && e.stationId === s.stationId)
    )
      continue;
    s.bikesDisabled = (s.bikesDisabled + 1) % 3;
    touched.add(i);
    events.push({
      system: SYSTEM,
      timeSec,
      stationId: s.stationId,
      type: 'availability_changed',
      after: afterOf(s),
    });
  }
  return { events, changed: [...touched].map((i) => statuses[i]!), increments: [...increments.values()] };
}

const admin = pgUrl === null ? null : new pg.Client({ connectionString: pgUrl });
await admin?.connect();

/** Size of what the store holds now, MB, and its largest tables. */
async function storeMb(): Promise<{ total: number; tables: [string, number][] }> {
  if (admin === null) {
    const db = new Database(sqliteFile!);
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      let tables: [string, number][] = [];
      try {
        tables = (
          db
            .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC')
            .all() as { name: string; bytes: number }[]
        ).map((t): [string, number] => [t.name, t.bytes / 1e6]);
      } catch {
        // dbstat is an optional SQLite module
      }
      return { total: statSync(sqliteFile!).size / 1e6, tables };
    } finally {
      db.close();
    }
  }
  await admin.query(
    `VACUUM (ANALYZE) ${schema}.event_batches, ${schema}.activity, ${schema}.station_status, ${schema}.checkpoints`,
  );
  const r = await admin.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 2 DESC`,
    [schema],
  );
  const tables = r.rows.map((row): [string, number] => [row.name, Number(row.bytes) / 1e6]);
  return { total: tables.reduce((a, [, mb]) => a + mb, 0), tables };
}

const store: Store = isPostgres
  ? openPostgresStore({ url: pgUrl!, schema, synchronousCommit: !args.includes('--async') })
  : await openStore(sqliteFile!);
await store.migrate();
console.log(`store: ${isPostgres ? `PostgreSQL, schema ${schema}` : `SQLite ${sqliteFile!}`}`);
await store.saveStationInfo(
  SYSTEM,
  ids.map((id, i) => ({
    stationId: id,
    code: String(10_000 + i),
    name: `Station ${i}`,
    lat: 48.8 + i / 1e4,
    lon: 2.3 + i / 1e4,
    capacity: 20 + (i % 30),
  })),
);

const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const diffMs: number[] = [];
let events = 0;
let carry = 0;
let prevSec: number | null = null;
const sizes: number[] = [];
const cpu0 = process.cpuUsage();
let otherMs = 0;
for (let day = 0; day < days; day++) {
  for (let m = 0; m < DOCS_PER_DAY; m++) {
    const timeSec = DAY0_SEC + day * 86_400 + m * 60;
    carry += (RENT_RETURN_PER_DAY * profile[m]!) / profileSum;
    const moves = Math.floor(carry);
    carry -= moves;
    const d = makeDocument(timeSec, moves, Math.floor(m / 10), 20_000 + day, prevSec);
    let t0 = performance.now();
    const appended = await store.commitDiff(SYSTEM, d.events, {
      lastDocumentSec: timeSec,
      changed: d.changed,
      removed: [],
      capacities,
    });
    diffMs.push(performance.now() - t0);
    events += appended.length;
    t0 = performance.now();
    const lastOffset = appended[appended.length - 1]!.offset;
    await store.commitActivity(SYSTEM, 'activity', lastOffset, d.increments);
    if (m % 30 === 29) {
      const state = Object.fromEntries(
        ids.map((id, i) => [id, { lastActivitySec: timeSec - i, state: 'ok' }]),
      );
      await store.commitDetection('detector:velib:seed', lastOffset, [], state);
    }
    otherMs += performance.now() - t0;
    prevSec = timeSec;
  }
  const size = await storeMb();
  sizes.push(size.total);
  console.log(
    `day ${day + 1}: ${size.total.toFixed(1)} MB (${size.tables
      .slice(0, 5)
      .map(([n, mb]) => `${n} ${mb.toFixed(1)}`)
      .join(', ')})`,
  );
}
const cpu = process.cpuUsage(cpu0);
const docs = days * DOCS_PER_DAY;
console.log(
  `events: ${Math.round(events / days).toLocaleString('en')} per day, ${(events / docs).toFixed(0)} per document on average`,
);
console.log(
  `commitDiff wall time per document: mean ${(diffMs.reduce((a, b) => a + b, 0) / docs).toFixed(2)} ms, p50 ${quantile(diffMs, 0.5).toFixed(2)} ms, ` +
    `p99 ${quantile(diffMs, 0.99).toFixed(2)} ms; commitActivity + commitDetection ${(otherMs / docs).toFixed(2)} ms per document; ` +
    `client CPU ${((cpu.user + cpu.system) / 1000 / docs).toFixed(2)} ms per document (all three)`,
);

// commitDiff of documents of exactly 200 events (1 snapshot + 199 rentals at distinct stations),
// each with 199 changed stations, on a second system.
const fixed: number[] = [];
for (let k = 0; k < 300; k++) {
  const timeSec = DAY0_SEC + k * 60;
  const list: FeedEvent[] = [
    { system: 'bench200', timeSec, type: 'snapshot', stations: STATIONS, intervalSec: 60 },
  ];
  const changed: StationStatus[] = [];
  for (let j = 0; j < 199; j++) {
    const s = statuses[(k * 37 + j * 7) % STATIONS]!;
    list.push({
      system: 'bench200',
      timeSec,
      stationId: s.stationId,
      type: 'rented',
      bikeType: 'mechanical',
      count: 1,
      after: afterOf(s),
    });
    changed.push(s);
  }
  const t0 = performance.now();
  const out = await store.commitDiff('bench200', list, {
    lastDocumentSec: timeSec,
    changed,
    removed: [],
    capacities,
  });
  if (k >= 20) fixed.push(performance.now() - t0); // after warm-up (dictionary, prepared statements)
  if (out.length !== 200) throw new Error(`expected 200 events appended, got ${out.length}`);
}
console.log(
  `commitDiff of a 200-event document (199 changed stations): mean ${(fixed.reduce((a, b) => a + b, 0) / fixed.length).toFixed(2)} ms, ` +
    `p50 ${quantile(fixed, 0.5).toFixed(2)} ms, p99 ${quantile(fixed, 0.99).toFixed(2)} ms`,
);
await store.close();

const growth = days > 1 ? sizes[days - 1]! - sizes[days - 2]! : sizes[0]!;
console.log(`day growth ${growth.toFixed(1)} MB for ${STATIONS.toLocaleString('en')} stations`);
console.log(`GROWTH: ${((growth * 1000) / STATIONS).toFixed(1)} MB/day per 1,000 stations`);
if (keep) console.log(`kept ${isPostgres ? `schema ${schema}` : sqliteFile!}`);
else if (admin !== null) await admin.query(`DROP SCHEMA ${schema} CASCADE`);
else if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
await admin?.end();
