/**
 * Imported first by the CLI (before anything allocates much): for the long-running services,
 * keeps V8's young generation at its initial size instead of letting it grow to 2 × 16 MB, and
 * asks V8 to favour memory over speed when it sizes the old generation.
 *
 * Why: V8 doubles the semi-spaces whenever enough objects survive a scavenge — start-up always
 * does that — and never gives the pages back while the process keeps allocating. For `watch`
 * that was 32 MB of a 120 MB budget (docs/performance.md §3), for objects that live one poll.
 * A 1 MB semi-space means more, smaller scavenges; at one document a minute that costs nothing
 * measurable, and it caps no heap: the old generation still grows as far as the data needs, so
 * it cannot cause an out-of-memory crash.
 *
 * How: `--max-semi-space-size` only works on node's command line, which `node dist/cli/main.js`
 * and the npm bin do not control; `--semi-space-growth-factor` is read by V8 each time it grows
 * the young generation, so setting it to 1 at run time makes each "growth" keep the same size.
 * Whoever passes their own semi-space flag (command line or NODE_OPTIONS) keeps it.
 *
 * `--optimize-for-size` (read by V8 whenever it decides how far the old generation may grow
 * before the next full collection) lets less garbage pile up between two: −4 to −7 MB on
 * average and −10 to −19 MB at the peak in the watch benchmark, at the cost of more frequent
 * (small: ~30 MB live) full collections. It caps nothing either.
 *
 * Batch commands (replay, backtest, demo's pre-fill) keep V8's defaults: there speed matters and
 * a large young generation is faster.
 */
import v8 from 'node:v8';

// Not `serve`: it only answers HTTP, where a 1 MB young generation costs latency under load
// (p99 15 ms instead of 9.6 ms at 200 connections, docs/performance.md §5).
const SERVICES = new Set(['watch', 'collect', 'process']);

function userChoseSemiSpace(): boolean {
  const flags = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].join(' ');
  return /--(max|min)-semi-space-size|--semi-space-growth-factor/.test(flags);
}

const command = process.argv[2];
if (command !== undefined && SERVICES.has(command)) {
  if (!userChoseSemiSpace()) v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--optimize-for-size');
  // Bytecode of functions not run for one GC (most of the start-up: Fastify's plugin setup, the
  // restore, config parsing) is dropped instead of after 5; a function run again is recompiled
  // lazily. −1.8 MB of heap idle, −8 MB on average at the watch benchmark's peak, same CPU
  // (docs/performance.md §3, Session 3).
  v8.setFlagsFromString('--bytecode-old-age=1');
  v8.setFlagsFromString('--flush-baseline-code');
}
