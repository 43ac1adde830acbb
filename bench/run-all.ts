/**
 * Runs every benchmark in sequence, each in its own process (so that one's heap does not weigh on
 * the next), collects their JSON lines and prints one table at the end.
 *
 *   npx tsx bench/run-all.ts [--quick] [--only replay-throughput,api-stations] [--out results.jsonl]
 *                            [--settle-sec 60] [--duration 30]
 *
 * --quick        reduced sizes for a check on a busy machine (API 10 s, watch half an hour of
 *                simulated time with a 2-day pre-fill, one bare run in the replay benchmark)
 * --settle-sec   before each benchmark, wait up to this long for the 1-min load average to fall
 *                under a quarter of the cores (the previous benchmark's own load decays slowly)
 * --duration     seconds of load per encoding in api-stations (default 30)
 * Needs dist/ (npm run build:server) for the benchmarks that run the CLI.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  flag,
  formatTable,
  loadAvg,
  numberOption,
  option,
  repoRoot,
  sleep,
  type BenchResult,
} from './lib.js';

const BENCHES = ['replay-throughput', 'db-growth', 'watch-memory', 'api-stations', 'backtest'] as const;

function argsFor(bench: string, quick: boolean): string[] {
  const duration = option('duration');
  switch (bench) {
    case 'replay-throughput':
      return quick ? ['--bare-runs', '1'] : [];
    case 'watch-memory':
      return quick ? ['--sim-hours', '0.5', '--prefill-days', '2'] : [];
    case 'api-stations':
      return ['--duration', duration ?? (quick ? '10' : '30')];
    default:
      return [];
  }
}

function run(bench: string, args: string[]): Promise<{ code: number | null; lines: unknown[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', `${bench}.ts`), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('exit', (code) => {
      const lines: unknown[] = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line));
        } catch {
          process.stderr.write(`${bench}: not JSON: ${line.slice(0, 200)}\n`);
        }
      }
      resolve({ code, lines });
    });
  });
}

async function settle(maxSec: number): Promise<void> {
  const target = os.cpus().length / 4;
  const deadline = Date.now() + maxSec * 1000;
  while (Date.now() < deadline && loadAvg()[0] > target) await sleep(5000);
}

async function main(): Promise<void> {
  const quick = flag('quick');
  const only = option('only')?.split(',');
  const settleSec = numberOption('settle-sec', 0);
  const outFile = option('out');
  const unknown = only?.filter((b) => !(BENCHES as readonly string[]).includes(b)) ?? [];
  if (unknown.length > 0)
    throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`);

  const all: unknown[] = [];
  const failed: string[] = [];
  for (const bench of BENCHES) {
    if (only && !only.includes(bench)) continue;
    if (settleSec > 0) await settle(settleSec);
    process.stderr.write(`\n== ${bench} (load ${loadAvg().join(' ')})\n`);
    const { code, lines } = await run(bench, argsFor(bench, quick));
    all.push(...lines);
    if (code !== 0) failed.push(`${bench} (exit ${code})`);
  }
  if (outFile) writeFileSync(outFile, all.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const results = all.filter((l): l is BenchResult => typeof l === 'object' && l !== null && 'metric' in l);
  const skipped = all.filter(
    (l): l is { bench: string; skipped: string } => typeof l === 'object' && l !== null && 'skipped' in l,
  );
  process.stderr.write('\n== all benchmarks\n' + formatTable(results));
  for (const s of skipped) process.stderr.write(`skipped ${s.bench}: ${s.skipped}\n`);
  if (outFile) process.stderr.write(`results: ${outFile}\n`);
  if (failed.length > 0) {
    process.stderr.write(`failed: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

await main();
