/**
 * `dockwatch backtest`: inject faults into recorded archives, run detectors side by side, score them.
 * Thin: options → backtest/, report → stdout (+ JSON file). The lead wires it into commander.
 */
import { writeFile } from 'node:fs/promises';
import { SingleBar, Presets } from 'cli-progress';
import { backtest, formatReport, reportJson, type BacktestResult } from '../backtest/index.js';
import { createDetector, detectorNames } from '../detection/index.js';

export interface BacktestCliOptions {
  /** Archive directories or files (the format of ../shared/data). */
  archives: string[];
  /** Comma-separated detector names, e.g. "seed,poisson" (default). */
  detectors?: string;
  seed?: number | string;
  /** Faults of each station kind (locked, rent_blocked, return_blocked, stuck_bikes); default 100. */
  faultsPerKind?: number | string;
  /** Feed outages; default 12. */
  outages?: number | string;
  minHistoryDays?: number | string;
  gapThresholdSec?: number | string;
  /** Longest stuck_bikes / docks_blocked fault, hours (default 24): stuck bikes are a matter of days. */
  stuckMaxHours?: number | string;
  /** docks_blocked faults (default 0; drawn after the others, which stay the same). */
  blockedDocksFaults?: number | string;
  /** Write machine-readable results here. */
  json?: string;
  /** Include every state change in the JSON. */
  jsonChanges?: boolean;
  /** Progress bar; default: when stderr is a terminal. */
  progress?: boolean;
  print?: (text: string) => void;
}

function int(name: string, v: number | string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: "${v}" is not an integer >= ${min}`);
  return n;
}

export async function runBacktest(opts: BacktestCliOptions): Promise<BacktestResult> {
  if (opts.archives.length === 0) throw new Error('backtest: give at least one archive directory or file');
  const detectors = (opts.detectors ?? 'seed,poisson')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const d of detectors)
    if (!detectorNames().includes(d))
      throw new Error(`--detectors: unknown "${d}". Known: ${detectorNames().join(', ')}`);
  const showProgress = opts.progress ?? process.stderr.isTTY === true;
  const bar = showProgress
    ? new SingleBar(
        { format: 'pass {pass}/2 [{bar}] {percentage}% | {duration}s', stream: process.stderr },
        Presets.shades_classic,
      )
    : null;
  bar?.start(100, 0, { pass: 1 });
  let lastPass = 1;
  const gap =
    opts.gapThresholdSec === undefined ? undefined : int('gap-threshold-sec', opts.gapThresholdSec, 0, 1);
  try {
    const result = await backtest({
      archives: opts.archives,
      detectors,
      makeDetector: (name, o) => createDetector(name, o),
      seed: int('seed', opts.seed, 1),
      faultsPerKind: int('faults-per-kind', opts.faultsPerKind, 100),
      outages: int('outages', opts.outages, 12),
      minHistoryDays: int('min-history-days', opts.minHistoryDays, 7),
      ...(gap === undefined ? {} : { gapThresholdSec: gap }),
      ...(opts.stuckMaxHours === undefined
        ? {}
        : { stuckMaxHours: int('stuck-max-hours', opts.stuckMaxHours, 24, 1) }),
      ...(opts.blockedDocksFaults === undefined
        ? {}
        : { blockedDocksFaults: int('blocked-docks-faults', opts.blockedDocksFaults, 0) }),
      onProgress: (pass, fraction) => {
        if (!bar) return;
        if (pass !== lastPass) {
          lastPass = pass;
          bar.update(0, { pass });
        }
        bar.update(Math.round(fraction * 100), { pass });
      },
    });
    bar?.stop();
    (opts.print ?? ((t: string) => process.stdout.write(t + '\n')))(formatReport(result));
    if (opts.json)
      await writeFile(
        opts.json,
        JSON.stringify(reportJson(result, opts.jsonChanges === true), null, 2) + '\n',
      );
    return result;
  } finally {
    bar?.stop();
  }
}
