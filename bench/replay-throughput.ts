/**
 * Replay throughput and peak RSS (issue 3): the six-week Bay Wheels status archive
 *   (a) bare: streaming brotli decompress → split lines → JSON.parse, counting station observations;
 *   (b) full: `dockwatch replay --json --fresh` (decompress → parse → diff → model → detection →
 *       SQLite) in a child process, whose summary gives the rate and whose getrusage the peak RSS.
 * Goals: (b) ≥ 70 % of (a); peak RSS of (b) ≤ 200 MB.
 *
 *   npx tsx bench/replay-throughput.ts [--archive <dir>] [--bare-runs 2] [--detector seed] [--single-thread]
 *                                      [--node-args "<node flags>"] [--no-launcher] [--keep]
 *
 * --detector: the replay's detector (default seed, the reference, whatever the configured default).
 * --single-thread: replay with --no-reader-thread (archive reading on the pipeline's thread too).
 *
 * The bare loop runs before and after the replay (--bare-runs 2, the default) and the two are
 * averaged, so a burst of load from other processes weighs less on the ratio. Rates are given per
 * wall second and per CPU second: on a shared machine the CPU-time ratio is the steadier one.
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { createBrotliDecompress } from 'node:zlib';
import {
  MB,
  assertBuilt,
  flag,
  cliPath,
  cpuSecSince,
  fileBytes,
  loadAvg,
  makeTmpDir,
  nodeArgsOption,
  viaLauncherOption,
  numberOption,
  option,
  printTable,
  progress,
  report,
  reportSkipped,
  round,
  sharedDir,
  spawnMeasured,
  type LoadAvg,
} from './lib.js';

const BENCH = 'replay-throughput';

interface BareRun {
  documents: number;
  observations: number;
  wallSec: number;
  cpuSec: number;
  loadBefore: LoadAvg;
}

/**
 * The baseline: the least work any replay must do. Decompressed bytes are decoded per chunk and
 * split on '\n' by indexOf; each line is parsed once.
 */
async function bareLoop(file: string): Promise<BareRun> {
  const loadBefore = loadAvg();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let documents = 0;
  let observations = 0;
  let rest = '';
  const stream = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
    createBrotliDecompress({ chunkSize: 1 << 20 }),
  );
  stream.setEncoding('utf8');
  const parseLine = (line: string): void => {
    if (line.length === 0) return;
    const doc = JSON.parse(line) as { data?: { stations?: unknown[] } };
    documents++;
    observations += doc.data?.stations?.length ?? 0;
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    let nl = chunk.indexOf('\n');
    if (nl >= 0 && rest.length > 0) {
      parseLine(rest + chunk.slice(0, nl));
      rest = '';
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    while (nl >= 0) {
      parseLine(chunk.slice(start, nl));
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    rest += chunk.slice(start);
  }
  parseLine(rest);
  return {
    documents,
    observations,
    wallSec: (performance.now() - t0) / 1000,
    cpuSec: cpuSecSince(cpu0),
    loadBefore,
  };
}

interface ReplaySummary {
  documents: number;
  stationObservations: number;
  events: number;
  stateChanges: number;
  elapsedSec: number;
  observationsPerSec: number;
}

async function main(): Promise<void> {
  const archive = path.resolve(option('archive', path.join(sharedDir, 'data/baywheels-2023-04')));
  const statusFile = path.join(archive, 'station_status.jsonl.br');
  if (!existsSync(statusFile))
    return reportSkipped(BENCH, `${statusFile} is absent (../shared is not mounted here)`);
  const notBuilt = assertBuilt();
  if (notBuilt) return reportSkipped(BENCH, notBuilt);
  const bareRuns = Math.max(1, Math.round(numberOption('bare-runs', 2)));
  // Pinned, not the configured default: numbers stay comparable when the default detector changes.
  const detector = option('detector', 'seed');

  const bare: BareRun[] = [];
  progress(`bare loop over ${path.relative(process.cwd(), statusFile)}`);
  bare.push(await bareLoop(statusFile));

  const { dir, cleanup } = makeTmpDir('replay');
  const database = path.join(dir, 'replay.sqlite');
  progress('dockwatch replay (full pipeline) in a child process');
  const loadBeforeReplay = loadAvg();
  const replayArgs = ['replay', archive, '--json', '--fresh', '--database', database, '--detector', detector];
  if (flag('single-thread')) replayArgs.push('--no-reader-thread');
  const measured = spawnMeasured(cliPath, replayArgs, {
    env: { DOCKWATCH_LOG_LEVEL: 'warn' },
    nodeArgs: nodeArgsOption(),
    viaLauncher: viaLauncherOption(),
  });
  const out = await measured.done;
  if (out.code !== 0) {
    cleanup();
    throw new Error(
      `dockwatch replay exited with ${String(out.code ?? out.signal)}: ${out.stderr.slice(-2000)}`,
    );
  }
  const lines = out.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]!) as ReplaySummary;
  const databaseBytes = fileBytes(database) + fileBytes(database + '-wal');
  cleanup();

  for (let i = 1; i < bareRuns; i++) {
    progress(`bare loop, run ${i + 1}`);
    bare.push(await bareLoop(statusFile));
  }

  const bareObs = bare[0]!.observations;
  if (bare.some((b) => b.observations !== bareObs))
    throw new Error('bare runs disagree on the observation count');
  const bareWall = bare.reduce((a, b) => a + b.wallSec, 0) / bare.length;
  const bareCpu = bare.reduce((a, b) => a + b.cpuSec, 0) / bare.length;
  const bareRate = bareObs / bareWall;
  const bareCpuRate = bareObs / bareCpu;
  const pipelineRate = summary.observationsPerSec;
  const pipelineCpuRate = out.cpuSec !== null ? summary.stationObservations / out.cpuSec : null;

  report({
    bench: BENCH,
    metric: 'bare_rate',
    value: round(bareRate),
    unit: 'obs/s',
    loadBefore: bare[0]!.loadBefore,
    wallSec: bareWall,
    cpuSec: bareCpu,
    detail: {
      documents: bare[0]!.documents,
      observations: bareObs,
      runs: bare.map((b) => ({
        wallSec: round(b.wallSec, 2),
        cpuSec: round(b.cpuSec, 2),
        loadBefore: b.loadBefore,
      })),
      obsPerCpuSec: round(bareCpuRate),
    },
  });
  report({
    bench: BENCH,
    metric: 'pipeline_rate',
    value: round(pipelineRate),
    unit: 'obs/s',
    loadBefore: loadBeforeReplay,
    wallSec: summary.elapsedSec,
    ...(out.cpuSec !== null ? { cpuSec: out.cpuSec } : {}),
    detail: {
      documents: summary.documents,
      observations: summary.stationObservations,
      events: summary.events,
      stateChanges: summary.stateChanges,
      detector,
      readerThread: !flag('single-thread'),
      processWallSec: round(out.wallSec, 2),
      obsPerCpuSec: pipelineCpuRate !== null ? round(pipelineCpuRate) : null,
      databaseMB: round(databaseBytes / MB, 1),
    },
  });
  if (summary.stationObservations !== bareObs)
    progress(
      `note: the pipeline took ${summary.stationObservations} observations, the bare loop counted ${bareObs}`,
    );
  report({
    bench: BENCH,
    metric: 'pipeline_vs_bare',
    value: round((100 * pipelineRate) / bareRate, 1),
    unit: '%',
    goal: { op: '>=', value: 70 },
    loadBefore: bare[0]!.loadBefore,
    detail: {
      byWallTime: round((100 * pipelineRate) / bareRate, 1),
      // Per CPU second: less sensitive to other processes, but the pipeline's extra threads
      // (libuv's brotli, SQLite's WAL writes) count here and not in wall time.
      byCpuTime: pipelineCpuRate !== null ? round((100 * pipelineCpuRate) / bareCpuRate, 1) : null,
    },
  });
  report({
    bench: BENCH,
    metric: 'replay_peak_rss',
    value: round(out.peakRssBytes / MB, 1),
    unit: 'MB',
    goal: { op: '<=', value: 200 },
    loadBefore: loadBeforeReplay,
    wallSec: out.wallSec,
    detail: {
      source: out.peakRssSource,
      nodeArgs: nodeArgsOption(),
      launcher: viaLauncherOption(),
      memoryAtPeakMB: out.memory?.atPeakMB ?? null,
      memoryMaximaMB: out.memory?.maximaMB ?? null,
    },
  });
  printTable();
}

await main();
