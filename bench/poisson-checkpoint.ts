/**
 * The `poisson` detector's checkpoint for a Vélib'-sized city: its size, and the time and memory a
 * save (saveState + the SQLite store's commitDetection) and a load (the stored JSON text and binary
 * parts → joinCheckpoint → restoreState) take. The watcher saves one every 60 documents and loads one at start-up.
 *
 *   node --expose-gc --import tsx bench/poisson-checkpoint.ts [--database FILE] [--runs 5]
 *
 * Without --database, 8 days of the simulator (the Vélib' stations when ../shared is there, else a
 * synthetic city of 1,500) are first pre-filled with the poisson detector (~15 s), as the watch
 * benchmark does. With --database, the checkpoint stored there (whatever its version) is loaded.
 * Memory: the peak RSS (VmHWM) is reset before each operation (Linux /proc/self/clear_refs, "5")
 * and read after it: "peak +MB" is what the operation added on top of the resident set before it.
 * One JSON line on stdout.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PoissonDetector } from '../src/detection/poisson.js';
import { joinCheckpoint, splitCheckpoint } from '../src/storage/codec/index.js';
import { prefillFromSimulator } from '../src/service/prefill.js';
import { startSimulator, type StationSource } from '../src/sim/index.js';
import { openSqliteStore } from '../src/storage/index.js';
import { loadAvg, makeTmpDir, MB, numberOption, option, progress, round, sharedDir } from './lib.js';

const CONSUMER = 'detector:velib:poisson';

function kB(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m![1]);
}

/** Runs `fn` with a fresh peak: its time and how far the peak rose above the RSS before it. */
async function measure<T>(fn: () => T | Promise<T>): Promise<{ ms: number; peakMB: number; value: T }> {
  globalThis.gc!();
  globalThis.gc!();
  writeFileSync('/proc/self/clear_refs', '5');
  const before = kB('VmRSS');
  const t = process.hrtime.bigint();
  const value = await fn();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, peakMB: (kB('VmHWM') - before) / 1024, value };
}

async function prefill(database: string): Promise<void> {
  const velibDir = path.join(sharedDir, 'data/velib-2025-10');
  const stations: StationSource = existsSync(path.join(velibDir, 'station_information.json'))
    ? { path: velibDir }
    : { synthetic: { count: 1500 } };
  const now = Math.floor(Date.now() / 1000);
  const sim = await startSimulator({
    seed: 'bench',
    stations,
    startSec: now - 8 * 86_400,
    speed: 0,
    timezone: 'Europe/Paris',
  });
  const store = openSqliteStore({ path: database });
  await store.migrate();
  progress(`pre-filling 8 days of ${sim.simulation.stations.length} stations with poisson`);
  await prefillFromSimulator({
    sim,
    store,
    system: 'velib',
    timeZone: 'Europe/Paris',
    untilSec: now,
    stepSec: 600,
    detector: 'poisson',
  });
  await store.close();
  await sim.close();
}

interface StoredCheckpoint {
  offset: number;
  text: string;
  /** The binary parts (codec/checkpoint.ts); null for a checkpoint saved before binary storage. */
  binary: Buffer | null;
}

function storedText(database: string): StoredCheckpoint {
  const db = new Database(database, { readonly: true });
  try {
    const hasBinary = (db.prepare('PRAGMA table_info(checkpoints)').all() as { name: string }[]).some(
      (c) => c.name === 'state_binary',
    );
    const row = db
      .prepare(
        `SELECT log_offset, state, ${hasBinary ? 'state_binary' : 'NULL'} AS bin FROM checkpoints WHERE consumer = ?`,
      )
      .get(CONSUMER) as { log_offset: number; state: string; bin: Buffer | null } | undefined;
    if (row === undefined) throw new Error(`${database} holds no checkpoint of ${CONSUMER}`);
    return { offset: row.log_offset, text: row.state, binary: row.bin };
  } finally {
    db.close();
  }
}

const checkpointBytes = (c: StoredCheckpoint): number => Buffer.byteLength(c.text) + (c.binary?.length ?? 0);

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (globalThis.gc === undefined) throw new Error('run with node --expose-gc');
  const runs = numberOption('runs', 5);
  const given = option('database');
  const tmp = makeTmpDir('ckpt');
  try {
    const database = given ?? path.join(tmp.dir, 'ckpt.sqlite');
    if (given === undefined) await prefill(database);
    const loadBefore = loadAvg();
    const stored = storedText(database);

    const loadAll = async ({ text, binary }: StoredCheckpoint) => {
      const out: { ms: number; peakMB: number; value: PoissonDetector }[] = [];
      for (let r = 0; r < runs; r++) {
        out.push(
          await measure(() => {
            const d = new PoissonDetector({ system: 'velib', minHistoryDays: 7 });
            d.restoreState((joinCheckpoint(text, binary) as { detector: unknown }).detector);
            return d;
          }),
        );
      }
      return out;
    };
    const loads = await loadAll(stored);
    const detector = loads[0]!.value;

    const savePath = path.join(tmp.dir, 'save.sqlite');
    const store = openSqliteStore({ path: savePath });
    await store.migrate();
    const saves: { ms: number; peakMB: number }[] = [];
    for (let r = 0; r < runs; r++) {
      saves.push(
        await measure(() =>
          store.commitDetection(CONSUMER, stored.offset, [], {
            version: 1,
            detector: detector.saveState(),
            machine: {},
          }),
        ),
      );
    }
    await store.close();
    const saved = storedText(savePath);
    const reloads = await loadAll(saved);
    // The saved form restores the same detector: saving it again gives the same bytes.
    const again = splitCheckpoint(CONSUMER, reloads[0]!.value.saveState());
    const first = splitCheckpoint(CONSUMER, detector.saveState());
    const same =
      again.json === first.json && Buffer.from(again.binary ?? []).equals(Buffer.from(first.binary ?? []));
    console.log(
      JSON.stringify({
        bench: 'poisson-checkpoint',
        stations: detector.states().size,
        storedCheckpointMB: round(checkpointBytes(stored) / MB, 2),
        savedCheckpointMB: round(checkpointBytes(saved) / MB, 2),
        roundTripIdentical: same,
        saveMsMedian: round(median(saves.map((s) => s.ms)), 1),
        savePeakMBMedian: round(median(saves.map((s) => s.peakMB)), 1),
        loadStoredMsMedian: round(median(loads.map((s) => s.ms)), 1),
        loadStoredPeakMBMedian: round(median(loads.map((s) => s.peakMB)), 1),
        loadSavedMsMedian: round(median(reloads.map((s) => s.ms)), 1),
        loadSavedPeakMBMedian: round(median(reloads.map((s) => s.peakMB)), 1),
        runs,
        loadBefore,
        loadAfter: loadAvg(),
      }),
    );
  } finally {
    tmp.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
