/**
 * Database growth per day of Vélib'-sized activity through the real pipeline (issue 3; goal
 * ≤ 20 MB/day). The simulator's documents (the real Vélib' station list from
 * ../shared/data/velib-2025-10, 1,495 stations, or a synthetic city of 1,500 when absent; one
 * document a minute, as Vélib' publishes) go through `Pipeline` (producer → event log → activity
 * and detection consumers) into a fresh SQLite file. After each simulated day the WAL is
 * checkpointed (TRUNCATE) and the file measured; the growth reported is the last day's, the first
 * day being a warm-up that also carries the fixed part (schema, station information, diff state).
 *
 *   npx tsx bench/db-growth.ts [--days 2] [--step-sec 60] [--min-history-days 1] [--detector seed] [--keep]
 *
 * `--min-history-days 1` (default here) lets the detector judge stations from the second day on,
 * so that day writes what a running service writes (state changes, full checkpoints).
 * This differs from bench/storage-growth.ts (the storage helpers'), which writes synthetic events
 * straight into the store without the pipeline.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseStationInformation, parseStationStatus } from '../src/feed/parse/index.js';
import { Pipeline } from '../src/pipeline/index.js';
import { generateDocuments, type GeneratedDocument, type StationSource } from '../src/sim/index.js';
import { openSqliteStore } from '../src/storage/index.js';
import {
  MB,
  cpuSecSince,
  fileBytes,
  loadAvg,
  makeTmpDir,
  numberOption,
  option,
  printTable,
  progress,
  report,
  round,
  sharedDir,
} from './lib.js';

const BENCH = 'db-growth';
const SYSTEM = 'velib';
const TIME_ZONE = 'Europe/Paris';
/** Monday 2025-10-06 00:00 Europe/Paris: whole local days, weekdays first. */
const FROM_SEC = 1_759_701_600;
const DAY_SEC = 86_400;
/** Documents per store transaction (an hour at one a minute): speed only, the bytes are the same. */
const BATCH_DOCUMENTS = 60;

interface DaySize {
  day: number;
  bytes: number;
  pages: number;
  freePages: number;
  events: number;
  stateChanges: number;
}

/** Checkpoints the WAL into the main file from a second connection (the store's is idle here). */
function checkpointAndMeasure(file: string): { bytes: number; pages: number; freePages: number } {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = db.pragma('page_count', { simple: true }) as number;
    const freePages = db.pragma('freelist_count', { simple: true }) as number;
    return { bytes: fileBytes(file) + fileBytes(file + '-wal'), pages, freePages };
  } finally {
    db.close();
  }
}

/** Bytes per table and index (dbstat), largest first; null when SQLite was built without it. */
function tableSizes(file: string): Record<string, number> | null {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 12')
      .all() as {
      name: string;
      bytes: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.name, round(r.bytes / MB, 2)]));
  } catch {
    return null;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const days = Math.max(2, Math.round(numberOption('days', 2)));
  const stepSec = numberOption('step-sec', 60);
  const minHistoryDays = Math.round(numberOption('min-history-days', 1));
  const detector = option('detector', 'seed');
  const velibDir = path.join(sharedDir, 'data/velib-2025-10');
  const stations: StationSource = existsSync(path.join(velibDir, 'station_information.json'))
    ? { path: velibDir }
    : { synthetic: { count: 1500 } };
  if ('synthetic' in stations) progress(`${velibDir} is absent: a synthetic city of 1,500 stations instead`);

  const { dir, cleanup } = makeTmpDir('db');
  const file = path.join(dir, 'growth.sqlite');
  const store = openSqliteStore({ path: file });
  await store.migrate();
  await store.upsertSystem({
    id: SYSTEM,
    name: "Vélib' (simulated)",
    feedUrl: 'http://127.0.0.1/gbfs.json',
    timezone: TIME_ZONE,
  });
  const pipeline = await Pipeline.open({
    store,
    system: SYSTEM,
    timeZone: TIME_ZONE,
    detector,
    minHistoryDays,
    gapThresholdSec: 3 * stepSec,
  });

  const loadBefore = loadAvg();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sizes: DaySize[] = [];
  let stationCount = 0;
  let nextDayEndSec = FROM_SEC + DAY_SEC;
  const docs = generateDocuments({
    stations,
    seed: 'bench',
    timezone: TIME_ZONE,
    fromSec: FROM_SEC,
    toSec: FROM_SEC + days * DAY_SEC - 1,
    stepSec,
  });
  const ingest = async (d: GeneratedDocument): Promise<void> => {
    if (d.informationDoc) {
      const info = parseStationInformation(d.informationDoc);
      if (info.ok) {
        stationCount = info.doc.stations.length;
        await pipeline.ingestInformation(info.doc);
      }
    }
    const status = parseStationStatus(d.statusDoc);
    if (status.ok) await pipeline.ingestStatus(status.doc);
  };
  const endDay = (): void => {
    const m = checkpointAndMeasure(file);
    sizes.push({
      day: sizes.length + 1,
      ...m,
      events: pipeline.counts.events,
      stateChanges: pipeline.counts.stateChanges,
    });
    progress(
      `day ${sizes.length}: ${(m.bytes / MB).toFixed(2)} MB, ${pipeline.counts.events.toLocaleString('en')} events so far`,
    );
    nextDayEndSec += DAY_SEC;
  };
  let next = docs.next();
  while (next.done !== true) {
    const dayEndSec = nextDayEndSec;
    // A transaction never spans a day boundary: the checkpoint then sees the whole day.
    await store.batch(async () => {
      for (let n = 0; n < BATCH_DOCUMENTS && next.done !== true && next.value.timeSec < dayEndSec; n++) {
        await ingest(next.value);
        next = docs.next();
      }
    });
    // (`next` moved on inside the callback: read it afresh.)
    const after = next as IteratorResult<GeneratedDocument, void>;
    if (after.done === true) await pipeline.flush();
    if (after.done === true || after.value.timeSec >= dayEndSec) endDay();
  }
  await store.close();
  const wallSec = (performance.now() - t0) / 1000;
  const cpuSec = cpuSecSince(cpu0);
  const last = sizes[sizes.length - 1]!;
  const prev = sizes[sizes.length - 2]!;
  const growthBytes = last.bytes - prev.bytes;
  const tables = tableSizes(file);
  cleanup();

  report({
    bench: BENCH,
    metric: 'db_growth_per_day',
    value: round(growthBytes / MB, 2),
    unit: 'MB/day',
    goal: { op: '<=', value: 20 },
    loadBefore,
    wallSec,
    cpuSec,
    detail: {
      stations: stationCount,
      stepSec,
      days,
      detector,
      minHistoryDays,
      eventsLastDay: last.events - prev.events,
      stateChangesLastDay: last.stateChanges - prev.stateChanges,
      freePagesLastDay: last.freePages,
      perDay: sizes.map((s) => ({
        day: s.day,
        MB: round(s.bytes / MB, 2),
        pages: s.pages,
        freePages: s.freePages,
        events: s.events,
      })),
      largestObjectsMB: tables,
    },
  });
  printTable();
}

await main();
