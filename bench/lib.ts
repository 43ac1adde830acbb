/**
 * Shared helpers of the benchmark scripts: options, results (one JSON line each on stdout, a
 * readable table on stderr), load average, CPU time, and children measured for peak RSS.
 *
 * The machine these run on may be shared: every result carries the 1/5/15-min load average taken
 * just before and just after its measurement, and CPU time beside wall time where it makes sense
 * (CPU time moves much less than wall time when other processes take the cores).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const cliPath = path.join(repoRoot, 'dist/cli/main.js');
const preloadPath = path.join(repoRoot, 'bench/rusage-preload.js');
/** What `dockwatch` and `npm start` run: sets glibc's allocator options, then execs node on cliPath. */
export const launcherPath = path.join(repoRoot, 'bin/dockwatch');

export const MB = 1024 * 1024;

/** `--name value` or `--name=value`; `fallback` when absent. */
export function option(name: string, fallback: string): string;
export function option(name: string): string | undefined;
export function option(name: string, fallback?: string): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}`) return args[i + 1] ?? fallback;
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return fallback;
}

export function numberOption(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got "${raw}"`);
  return n;
}

export function flag(name: string): boolean {
  return process.argv.slice(2).includes(`--${name}`);
}

export type LoadAvg = [number, number, number];

export function loadAvg(): LoadAvg {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [round(a, 2), round(b, 2), round(c, 2)];
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** CPU seconds (user + system) of this process since `from` (a process.cpuUsage() value). */
export function cpuSecSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

export interface BenchResult {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  goal?: Goal;
  pass?: boolean;
  /** Load average (1, 5, 15 min) just before and just after the measurement. */
  loadBefore: LoadAvg;
  loadAfter: LoadAvg;
  /** True when something else kept the cores busy before the run (1-min load ≥ 0.5). */
  underLoad: boolean;
  cpus: number;
  wallSec?: number;
  /** CPU seconds (user + system) of the measured process. */
  cpuSec?: number;
  at: string;
  detail?: Record<string, unknown>;
}

export interface Measure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  goal?: Goal;
  loadBefore: LoadAvg;
  wallSec?: number;
  cpuSec?: number;
  detail?: Record<string, unknown>;
}

const printed: BenchResult[] = [];

/** Prints one result as a JSON line on stdout (and keeps it for the table). */
export function report(m: Measure): BenchResult {
  const r: BenchResult = {
    bench: m.bench,
    metric: m.metric,
    value: m.value,
    unit: m.unit,
    ...(m.goal
      ? { goal: m.goal, pass: m.goal.op === '>=' ? m.value >= m.goal.value : m.value <= m.goal.value }
      : {}),
    loadBefore: m.loadBefore,
    loadAfter: loadAvg(),
    underLoad: m.loadBefore[0] >= 0.5,
    cpus: os.cpus().length,
    ...(m.wallSec !== undefined ? { wallSec: round(m.wallSec, 2) } : {}),
    ...(m.cpuSec !== undefined ? { cpuSec: round(m.cpuSec, 2) } : {}),
    at: new Date().toISOString(),
    ...(m.detail ? { detail: m.detail } : {}),
  };
  printed.push(r);
  process.stdout.write(JSON.stringify(r) + '\n');
  return r;
}

/** A benchmark that cannot run here (no ../shared, no dist/…): one JSON line saying why. */
export function reportSkipped(bench: string, reason: string): void {
  process.stderr.write(`${bench}: skipped: ${reason}\n`);
  process.stdout.write(
    JSON.stringify({ bench, skipped: reason, loadAvg: loadAvg(), at: new Date().toISOString() }) + '\n',
  );
}

export function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

function formatValue(v: number): string {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** The results as a readable table (stderr, so that stdout stays JSON Lines). */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => [
    `${r.bench} / ${r.metric}`,
    `${formatValue(r.value)} ${r.unit}`,
    r.goal ? `${r.goal.op} ${formatValue(r.goal.value)}` : '',
    r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED',
    `${r.loadBefore[0].toFixed(2)} → ${r.loadAfter[0].toFixed(2)}${r.underLoad ? ' (loaded)' : ''}`,
    r.cpuSec !== undefined ? r.cpuSec.toFixed(1) : '',
    r.wallSec !== undefined ? r.wallSec.toFixed(1) : '',
  ]);
  const head = ['result', 'value', 'goal', '', 'load 1m', 'cpu s', 'wall s'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

export function printTable(): void {
  if (printed.length > 0) process.stderr.write('\n' + formatTable(printed));
}

export function assertBuilt(): string | null {
  return existsSync(cliPath)
    ? null
    : `${path.relative(repoRoot, cliPath)} is missing: run "npm run build:server" first`;
}

export function makeTmpDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `dockwatch-bench-${prefix}-`));
  return {
    dir,
    cleanup: () =>
      flag('keep') ? process.stderr.write(`kept ${dir}\n`) : rmSync(dir, { recursive: true, force: true }),
  };
}

export function fileBytes(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallSec: number;
  /**
   * Peak RSS of the child itself: its VmHWM read at exit (bench/rusage-preload.js), else the highest
   * VmHWM polled; getrusage's ru_maxrss only without /proc (it includes the parent's RSS at fork).
   */
  peakRssBytes: number;
  /** Where peakRssBytes comes from. */
  peakRssSource: 'vmhwm' | 'getrusage' | 'proc';
  /** getrusage ru_maxrss of the child (inflated by the parent's RSS at fork; for comparison). */
  ruMaxRssBytes: number | null;
  /** User + system CPU of the child (null when it died before reporting). */
  cpuSec: number | null;
  /** process.memoryUsage() in MB at the highest RSS sampled, and each field's maximum. */
  memory: { atPeakMB: Record<string, number>; maximaMB: Record<string, number> } | null;
}

/** What bench/rusage-preload.js writes at the child's exit. */
interface RusageReport {
  /** The child's own /proc/self/status VmHWM at exit; null without /proc. */
  vmHwmBytes: number | null;
  maxRssBytes: number;
  userCpuSec: number;
  systemCpuSec: number;
  memoryAtPeakMB: Record<string, number>;
  memoryMaximaMB: Record<string, number>;
}

export interface MeasuredChild {
  child: ChildProcess;
  done: Promise<ChildOutcome>;
  /** Highest VmHWM polled so far. */
  polledPeakRssBytes(): number;
  /** Last VmRSS polled. */
  currentRssBytes(): number;
  /** User + system CPU seconds of the running child, from /proc/<pid>/stat (null when unreadable). */
  currentCpuSec(): number | null;
}

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SEC = 100;

const KEEP_OUTPUT_CHARS = 4 * MB;

/**
 * Runs `node [--import rusage-preload] script ...args` and measures it: wall time, CPU time and
 * peak RSS (getrusage written by the preload at exit; /proc/<pid>/status VmHWM polled every 100 ms
 * as a fallback and for a running view). `onLine` sees each stdout line as it comes.
 */
export function spawnMeasured(
  script: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    onLine?: (line: string) => void;
    nodeArgs?: string[];
    /** Start `bin/dockwatch` (which runs cliPath) instead of `node script`; node's flags go through its environment. */
    viaLauncher?: boolean;
  } = {},
): MeasuredChild {
  // Not makeTmpDir: --keep keeps databases, not this.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockwatch-bench-rusage-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const rusageFile = path.join(dir, 'rusage.json');
  const started = performance.now();
  const nodeArgs = [...(opts.nodeArgs ?? []), '--import', preloadPath];
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, DOCKWATCH_BENCH_RUSAGE_FILE: rusageFile };
  if (opts.viaLauncher) {
    // The preload's path may hold spaces: NODE_OPTIONS quotes it; the launcher splits its own variable.
    env['NODE_OPTIONS'] = `${env['NODE_OPTIONS'] ?? ''} --import ${JSON.stringify(preloadPath)}`.trim();
    env['DOCKWATCH_NODE_ARGS'] = (opts.nodeArgs ?? []).join(' ');
  }
  // The launcher `exec`s node: same pid, so the /proc polling and the preload see node itself.
  const child = opts.viaLauncher
    ? spawn(launcherPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [...nodeArgs, script, ...args], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    if (stdout.length < KEEP_OUTPUT_CHARS) stdout += d;
    if (!opts.onLine) return;
    partial += d;
    let i: number;
    while ((i = partial.indexOf('\n')) >= 0) {
      opts.onLine(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
  });
  child.stderr.on('data', (d: string) => {
    if (stderr.length < KEEP_OUTPUT_CHARS) stderr += d;
  });

  let hwm = 0;
  let rss = 0;
  const poll = (): void => {
    if (child.pid === undefined) return;
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      hwm = Math.max(hwm, kbField(status, 'VmHWM:'));
      rss = kbField(status, 'VmRSS:');
    } catch {
      // Gone, or no /proc (not Linux): getrusage still reports.
    }
  };
  const timer = setInterval(poll, 100);

  const done = new Promise<ChildOutcome>((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      const wallSec = (performance.now() - started) / 1000;
      let usage: RusageReport | null = null;
      try {
        usage = JSON.parse(readFileSync(rusageFile, 'utf8')) as RusageReport;
      } catch {
        usage = null;
      }
      cleanup();
      resolve({
        code,
        signal,
        stdout,
        stderr,
        wallSec,
        peakRssBytes:
          usage === null
            ? hwm
            : usage.vmHwmBytes !== null
              ? Math.max(usage.vmHwmBytes, hwm)
              : hwm > 0
                ? hwm
                : usage.maxRssBytes,
        peakRssSource: usage?.vmHwmBytes != null ? 'vmhwm' : hwm > 0 ? 'proc' : usage ? 'getrusage' : 'proc',
        ruMaxRssBytes: usage ? usage.maxRssBytes : null,
        cpuSec: usage ? usage.userCpuSec + usage.systemCpuSec : null,
        memory: usage ? { atPeakMB: usage.memoryAtPeakMB, maximaMB: usage.memoryMaximaMB } : null,
      });
    });
  });
  const currentCpuSec = (): number | null => {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
    } catch {
      return null;
    }
  };
  return { child, done, polledPeakRssBytes: () => hwm, currentRssBytes: () => rss, currentCpuSec };
}

function kbField(status: string, name: string): number {
  const i = status.indexOf(name);
  if (i < 0) return 0;
  return parseInt(status.slice(i + name.length), 10) * 1024;
}

/**
 * The measured `dockwatch` is started as users start it, through `bin/dockwatch` (glibc allocator
 * options, docs/performance.md §3), unless `--no-launcher`: `node dist/cli/main.js` directly.
 */
export function viaLauncherOption(): boolean {
  return !flag('no-launcher');
}

/** `--node-args "--max-semi-space-size=4 …"`: extra flags for the measured child's node. */
export function nodeArgsOption(): string[] {
  const raw = option('node-args');
  return raw ? raw.split(/\s+/).filter((a) => a.length > 0) : [];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with the most self time in a V8 .cpuprofile, as "name file:line", ms and %. */
export function topSelfTime(profile: CpuProfile, count = 15): { fn: string; ms: number; pct: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!n) continue;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, us]) => ({ fn, ms: round(us / 1000), pct: round((100 * us) / Math.max(1, total), 1) }));
}
