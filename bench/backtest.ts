/**
 * Backtest speed (issue 5): `dockwatch backtest` of the six-week Bay Wheels archive with two
 * detectors (seed, poisson), 100 faults per kind, in a child process. Goal: under 5 minutes.
 * Reports wall time, CPU time (steadier on a shared machine) and peak RSS, plus the child's own
 * split (summary pass, replay pass) as it prints it.
 *
 *   npx tsx bench/backtest.ts [--archive <dir>] [--detectors seed,poisson] [--seed 1]
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  MB,
  assertBuilt,
  cliPath,
  loadAvg,
  makeTmpDir,
  option,
  printTable,
  progress,
  report,
  reportSkipped,
  round,
  sharedDir,
  spawnMeasured,
} from './lib.js';

const BENCH = 'backtest';

async function main(): Promise<void> {
  const archive = option('archive', path.join(sharedDir, 'data/baywheels-2023-04'));
  if (!existsSync(archive)) return reportSkipped(BENCH, `${archive} is absent`);
  const notBuilt = assertBuilt();
  if (notBuilt) return reportSkipped(BENCH, notBuilt);
  const detectors = option('detectors', 'seed,poisson');
  const seed = option('seed', '1');
  const { dir, cleanup } = makeTmpDir('dockwatch-bench-backtest-');
  const loadBefore = loadAvg();
  progress(`backtest ${archive} --detectors ${detectors} --seed ${seed}`);
  const measured = spawnMeasured(
    cliPath,
    ['backtest', archive, '--detectors', detectors, '--seed', seed, '--json', path.join(dir, 'bt.json')],
    { env: { DOCKWATCH_LOG_LEVEL: 'warn' } },
  );
  const out = await measured.done;
  cleanup();
  if (out.code !== 0)
    throw new Error(
      `dockwatch backtest exited with ${String(out.code ?? out.signal)}: ${out.stderr.slice(-2000)}`,
    );
  // "…; 10s summary + 40s replay" on the report's second line.
  const split = /(\d+)s summary \+ (\d+)s replay/.exec(out.stdout);
  report({
    bench: BENCH,
    metric: 'six_weeks_two_detectors',
    value: round(out.wallSec / 60, 2),
    unit: 'min',
    goal: { op: '<=', value: 5 },
    loadBefore,
    wallSec: out.wallSec,
    ...(out.cpuSec !== null ? { cpuSec: out.cpuSec } : {}),
    detail: {
      detectors,
      seed,
      peakRssMB: round(out.peakRssBytes / MB),
      ...(split ? { summarySec: Number(split[1]), replaySec: Number(split[2]) } : {}),
    },
  });
  printTable();
}

await main();
