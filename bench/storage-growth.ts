/**
 * Database growth and write cost of the SQLite store for one synthetic Vélib'-sized day:
 * 1,500 stations, one document a minute (1,440 snapshots), ~200 k rented/returned events plus
 * availability changes, the activity consumer's slot increments, detector checkpoints.
 * Writes the same way the pipeline does: one commitDiff per document, one commitActivity per
 * document, a commitDetection with a checkpoint every 30 documents.
 *
 *   npx tsx bench/storage-growth.ts [--days 2] [--keep]
 *
 * Prints the size after each day and the growth of the last day (the first day also carries the
 * fixed part: dictionaries, diff state, station information).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { FeedEvent } from '../src/events/types.js';
import type { StationStatus } from '../src/feed/model.js';
import { openStore, type SlotCount } from '../src/storage/index.js';

const STATIONS = 1500;
const DOCS_PER_DAY = 1440;
const RENT_RETURN_PER_DAY = 200_000;
const SYSTEM = 'velib';
const DAY0_SEC = 1_760_000_400 - (1_760_000_400 % 86_400); // a UTC midnight

const args = process.argv.slice(2);
const days = Number(args[args.indexOf('--days') + 1] ?? 2) || 2;
const keep = args.includes('--keep');

/** Deterministic PRNG (mulberry32) so that two runs write the same bytes. */
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

// Busy stations are much busier than quiet ones (Zipf-like weights), as in the real feeds.
const weights = Array.from({ length: STATIONS }, (_, i) => 1 / (1 + i / 60));
const cumulative: number[] = [];
weights.reduce((sum, w, i) => (cumulative[i] = sum + w), 0);
const totalWeight = cumulative[STATIONS - 1]!;
function pickStation(): number {
  const x = random() * totalWeight;
  let lo = 0;
  let hi = STATIONS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
/** Share of the day's trips in each minute: quiet nights, commuting peaks. */
function diurnal(minute: number): number {
  const h = minute / 60;
  return (
    0.15 +
    Math.exp(-((h - 8.5) ** 2) / 2) +
    1.2 * Math.exp(-((h - 18) ** 2) / 3) +
    0.5 * Math.exp(-((h - 13) ** 2) / 4)
  );
}
const profile = Array.from({ length: DOCS_PER_DAY }, (_, m) => diurnal(m));
const profileSum = profile.reduce((a, b) => a + b, 0);

const ids = Array.from({ length: STATIONS }, (_, i) => String(100_000_000 + i * 7919)); // Vélib'-like long ids
const capacities = new Map<string, number | null>(ids.map((id, i) => [id, 20 + (i % 30)]));
const statuses: StationStatus[] = ids.map((id, i) => ({
  stationId: id,
  code: String(10_000 + i),
  bikes: { mechanical: 8, electric: 4, other: 0 },
  bikesDisabled: 0,
  docksAvailable: 20 + (i % 30) - 12,
  docksDisabled: 0,
  isInstalled: true,
  isRenting: true,
  isReturning: true,
  lastReportedSec: DAY0_SEC,
}));

const root = mkdtempSync(path.join(tmpdir(), 'dockwatch-growth-'));
const file = path.join(root, 'growth.sqlite');
const store = await openStore(file);
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

/** CPU time of this process (user + system), ms: wall time means little on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function fileMb(): number {
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(file).size / 1e6;
}

let commitDiffMs = 0;
let otherMs = 0;
let stationEvents = 0;
let carry = 0;
const sizes: number[] = [];
let prevDocSec: number | null = null;
for (let day = 0; day < days; day++) {
  for (let m = 0; m < DOCS_PER_DAY; m++) {
    const timeSec = DAY0_SEC + day * 86_400 + m * 60;
    carry += (RENT_RETURN_PER_DAY * profile[m]!) / profileSum;
    const moves = Math.floor(carry);
    carry -= moves;
    const events: FeedEvent[] = [
      {
        system: SYSTEM,
        timeSec,
        type: 'snapshot',
        stations: STATIONS,
        intervalSec: prevDocSec === null ? null : timeSec - prevDocSec,
      },
    ];
    const touched = new Set<number>();
    const increments = new Map<string, SlotCount>();
    const slot = Math.floor(m / 10);
    for (let k = 0; k < moves; k++) {
      const i = pickStation();
      const s = statuses[i]!;
      const electric = random() < 0.4;
      const type = random() < 0.5 ? 'rented' : 'returned';
      const bikeType = electric ? 'electric' : 'mechanical';
      // One event per (station, type, bike type) per document: merge repeats into the count.
      const key = `${i}|${type}|${bikeType}`;
      const existing = events.find(
        (e) =>
          e.type === type &&
          'stationId' in e &&
          e.stationId === s.stationId &&
          'bikeType' in e &&
          e.bikeType === bikeType,
      );
      const delta = type === 'rented' ? -1 : 1;
      s.bikes[bikeType] = Math.max(0, s.bikes[bikeType] + delta);
      s.docksAvailable = Math.max(0, s.docksAvailable - delta);
      s.lastReportedSec = timeSec;
      const after = {
        bikes: { ...s.bikes },
        docksAvailable: s.docksAvailable,
        bikesDisabled: s.bikesDisabled,
        docksDisabled: s.docksDisabled,
      };
      if (
        existing !== undefined &&
        existing.type === type &&
        (existing.type === 'rented' || existing.type === 'returned')
      ) {
        existing.count++;
        existing.after = after;
      } else {
        events.push({ system: SYSTEM, timeSec, stationId: s.stationId, type, bikeType, count: 1, after });
        stationEvents++;
      }
      void key;
      touched.add(i);
      const inc = increments.get(s.stationId) ?? {
        stationId: s.stationId,
        day: 20_000 + day,
        slot,
        rented: 0,
        returned: 0,
      };
      if (type === 'rented') inc.rented++;
      else inc.returned++;
      increments.set(s.stationId, inc);
    }
    // A dock repaired or a bike reported broken now and then: ~10 % more station events.
    for (let k = 0; k < moves / 10; k++) {
      const i = pickStation();
      const s = statuses[i]!;
      s.bikesDisabled = (s.bikesDisabled + 1) % 3;
      touched.add(i);
      events.push({
        system: SYSTEM,
        timeSec,
        stationId: s.stationId,
        type: 'availability_changed',
        after: {
          bikes: { ...s.bikes },
          docksAvailable: s.docksAvailable,
          bikesDisabled: s.bikesDisabled,
          docksDisabled: s.docksDisabled,
        },
      });
      stationEvents++;
    }
    const changed = [...touched].map((i) => statuses[i]!);
    let t0 = cpuMs();
    const appended = await store.commitDiff(SYSTEM, events, {
      lastDocumentSec: timeSec,
      changed,
      removed: [],
      capacities,
    });
    commitDiffMs += cpuMs() - t0;
    t0 = cpuMs();
    const lastOffset = appended[appended.length - 1]!.offset;
    await store.commitActivity(SYSTEM, 'activity', lastOffset, [...increments.values()]);
    if (m % 30 === 29) {
      const state = Object.fromEntries(
        ids.map((id, i) => [id, { lastActivitySec: timeSec - i, state: 'ok' }]),
      );
      await store.commitDetection('detector:velib:seed', lastOffset, [], state);
    }
    otherMs += cpuMs() - t0;
    prevDocSec = timeSec;
  }
  sizes.push(fileMb());
  console.log(`day ${day + 1}: database ${sizes[day]!.toFixed(1)} MB`);
}
await store.close();

const growth = days > 1 ? sizes[days - 1]! - sizes[days - 2]! : sizes[0]!;
const perDay = stationEvents / days;
console.log(
  `station events: ${Math.round(perDay).toLocaleString('en')} per day (rented/returned merged per document, + availability changes)`,
);
console.log(
  `commitDiff CPU time: ${(commitDiffMs / 1000).toFixed(2)} s for ${(days * DOCS_PER_DAY).toLocaleString('en')} documents = ${((commitDiffMs * 1000) / (stationEvents + days * DOCS_PER_DAY)).toFixed(2)} µs per event`,
);
console.log(`commitActivity + commitDetection CPU time: ${(otherMs / 1000).toFixed(2)} s`);
const db = new Database(file, { readonly: true });
try {
  const tables = db
    .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 8')
    .all() as { name: string; bytes: number }[];
  console.log(
    `largest objects after ${days} day(s): ${tables.map((t) => `${t.name} ${(t.bytes / 1e6).toFixed(1)} MB`).join(', ')}`,
  );
} catch {
  // dbstat is an optional SQLite module
}
db.close();
// The yardstick of the replay target: JSON.parse of one Vélib' document (the real snapshot in
// ../shared when present, else a synthetic one of the same shape), timed the same way.
const shared = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../shared/data/velib-2025-10/station_status.json',
);
const docJson = existsSync(shared)
  ? readFileSync(shared, 'utf8')
  : JSON.stringify({
      lastUpdatedOther: DAY0_SEC,
      ttl: 3600,
      data: {
        stations: ids.map((id, i) => ({
          station_id: Number(id),
          num_bikes_available: 12,
          numBikesAvailable: 12,
          num_bikes_available_types: [{ mechanical: 8 }, { ebike: 4 }],
          num_docks_available: 20,
          numDocksAvailable: 20,
          is_installed: 1,
          is_returning: 1,
          is_renting: 1,
          last_reported: DAY0_SEC,
          stationCode: String(10_000 + i),
          station_opening_hours: null,
        })),
      },
    });
const parses = 200;
const p0 = cpuMs();
for (let k = 0; k < parses; k++) JSON.parse(docJson);
const parseMs = (cpuMs() - p0) / parses;
const diffPerDocMs = commitDiffMs / (days * DOCS_PER_DAY);
console.log(
  `JSON.parse of one ${existsSync(shared) ? 'real' : 'synthetic'} Vélib' document (${(docJson.length / 1e3).toFixed(0)} kB): ${parseMs.toFixed(2)} ms CPU; ` +
    `commitDiff per document: ${diffPerDocMs.toFixed(2)} ms CPU = ${((100 * diffPerDocMs) / parseMs).toFixed(0)} % of it`,
);
console.log(`GROWTH: ${growth.toFixed(1)} MB/day`);
if (keep) console.log(`kept ${file}`);
else rmSync(root, { recursive: true, force: true });
