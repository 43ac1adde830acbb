#!/usr/bin/env node
/** `dockwatch`: thin commands over the library. Each command lives in its own module. */
// First: sizes V8's young generation before the other modules allocate.
import './young-generation.js';
import { Command, Option } from 'commander';
import { DOCKWATCH_VERSION } from '../feed/http/index.js';
import { ConfigError } from '../config/index.js';

// Each command's module is imported when that command runs: `watch` does not pay for the
// simulator, the backtest, NATS or YAML (memory: docs/performance.md §3).
const runWatch = async (...a: Parameters<typeof import('./watch.js').runWatch>) =>
  (await import('./watch.js')).runWatch(...a);
const runReplayCommand = async (...a: Parameters<typeof import('./replay.js').runReplayCommand>) =>
  (await import('./replay.js')).runReplayCommand(...a);
const runRecordCommand = async (...a: Parameters<typeof import('./record-command.js').runRecordCommand>) =>
  (await import('./record-command.js')).runRecordCommand(...a);
const runSimulate = async (...a: Parameters<typeof import('./simulate.js').runSimulate>) =>
  (await import('./simulate.js')).runSimulate(...a);
const runDemo = async (...a: Parameters<typeof import('./demo.js').runDemo>) =>
  (await import('./demo.js')).runDemo(...a);
const runBacktest = async (...a: Parameters<typeof import('./backtest.js').runBacktest>) =>
  (await import('./backtest.js')).runBacktest(...a);
const runCollect = async (...a: Parameters<typeof import('./roles.js').runCollect>) =>
  (await import('./roles.js')).runCollect(...a);
const runProcess = async (...a: Parameters<typeof import('./roles.js').runProcess>) =>
  (await import('./roles.js')).runProcess(...a);
const runServe = async (...a: Parameters<typeof import('./roles.js').runServe>) =>
  (await import('./roles.js')).runServe(...a);

const program = new Command('dockwatch')
  .description('Watches a bike-share GBFS feed and tells which stations are locked.')
  .version(DOCKWATCH_VERSION)
  .showHelpAfterError();

const common = (cmd: Command): Command =>
  cmd
    .option('--database <path>', 'SQLite file (env DOCKWATCH_DATABASE)')
    .option('--detector <name>', 'detector: seed, … (env DOCKWATCH_DETECTOR)')
    .option(
      '--min-history-days <n>',
      'days of history before judging a station (env DOCKWATCH_MIN_HISTORY_DAYS)',
    )
    .option('--timezone <tz>', 'system time zone override, e.g. Europe/Paris (env DOCKWATCH_TIMEZONE)')
    .option('--system <id>', 'system id (env DOCKWATCH_SYSTEM_ID)')
    .option('--log-level <level>', 'trace|debug|info|warn|error (env DOCKWATCH_LOG_LEVEL)');

common(program.command('watch'))
  .description('watch a feed, detect locked stations, serve the web app and the API')
  .option(
    '--feed <url>',
    "gbfs.json or station_status URL (env DOCKWATCH_FEED_URL; default Vélib' Métropole)",
  )
  .option('--poll-interval-sec <n>', 'seconds between station_status polls (env DOCKWATCH_POLL_INTERVAL_SEC)')
  .option(
    '--gap-sec <n>',
    'blind after this many seconds without a document (env DOCKWATCH_GAP_SEC; default 3 polls)',
  )
  .option('--host <host>', 'HTTP listen address (env DOCKWATCH_HOST)')
  .option('--port <port>', 'HTTP port (env DOCKWATCH_PORT)')
  .option('--language <code>', 'preferred feed language (env DOCKWATCH_LANGUAGE)')
  .option('--retention-days <n>', 'history kept (env DOCKWATCH_RETENTION_DAYS)')
  .option('--tile-url <url>', "map tiles, '' for none (env DOCKWATCH_TILE_URL)")
  .option('--public-url <url>', 'public URL of this service, for feed links (env DOCKWATCH_PUBLIC_URL)')
  .option(
    '--feed-contact-email <email>',
    'contact of the corrected GBFS feed (env DOCKWATCH_FEED_CONTACT_EMAIL)',
  )
  .action((opts: Record<string, string | undefined>) => runWatch(opts));

common(program.command('replay'))
  .description('run recorded archives through the pipeline as fast as possible')
  .argument('<paths...>', 'archive directories or .jsonl.br files')
  .option('--state-changes <file>', 'also write every state change as JSON Lines')
  .option('--gap-sec <n>', 'longer silences are blind time (default: 3 × the median document interval)')
  .option('--fresh', 'start over: delete the replay database first')
  .option('--json', 'print the summary as JSON')
  .option('--no-reader-thread', 'read and parse the archive on the main thread too (one core)')
  .action((paths: string[], opts: Record<string, string | boolean | undefined>) =>
    runReplayCommand(paths, opts),
  );

program
  .command('record')
  .description('record what a feed serves into rotating brotli JSON Lines archives')
  .requiredOption('--feed <url>', 'gbfs.json or station_status URL')
  .requiredOption('--out <dir>', 'archive directory')
  .option('--poll-interval-sec <n>', 'seconds between polls', '60')
  .option('--log-level <level>', 'trace|debug|info|warn|error')
  .action((opts: { feed: string; out: string; pollIntervalSec: string; logLevel?: string }) =>
    runRecordCommand(opts),
  );

program
  .command('simulate')
  .description('serve a synthetic GBFS feed (GBFS 2.3 and Vélib-shaped) with injectable faults')
  .option('--port <port>', 'port (0 = any free port)', '8090')
  .option('--host <host>', 'listen address', '127.0.0.1')
  .option(
    '--stations <source>',
    'synthetic, synthetic:N, or a station_information file or directory',
    'synthetic',
  )
  .option('--seed <seed>', 'random seed', '1')
  .option('--speed <x>', 'simulated seconds per real second', '1')
  .option('--start <time>', 'simulated start (ISO 8601 or POSIX seconds; default now)')
  .option('--timezone <tz>', 'time zone of the synthetic system', 'Europe/Paris')
  .addOption(
    new Option('--fault <spec...>', 'fault to inject, e.g. locked:station=10001,start=+1h,duration=6h'),
  )
  .action(async (opts: Record<string, string | string[] | undefined>) => {
    await runSimulate({
      port: Number(opts['port']),
      host: String(opts['host']),
      stations: String(opts['stations']),
      seed: String(opts['seed']),
      speed: Number(opts['speed']),
      ...(typeof opts['start'] === 'string' ? { start: opts['start'] } : {}),
      timezone: String(opts['timezone']),
      faults: Array.isArray(opts['fault']) ? opts['fault'] : [],
    });
  });

const broker = (cmd: Command): Command =>
  cmd
    .option('--nats-url <url>', 'NATS (env DOCKWATCH_NATS_URL; default nats://127.0.0.1:4222)')
    .option(
      '--stream <name>',
      'JetStream events stream (env DOCKWATCH_NATS_STREAM; default DOCKWATCH_EVENTS)',
    )
    .option(
      '--metrics-port <port>',
      'serve GET /metrics on this port (env DOCKWATCH_METRICS_PORT; default off)',
    )
    .option(
      '--metrics-host <host>',
      'listen address of /metrics (env DOCKWATCH_METRICS_HOST; default 127.0.0.1)',
    );

broker(common(program.command('collect')))
  .description(
    'scale-out role: poll the feeds of a systems file, publish documents and events to NATS JetStream',
  )
  .option('--systems <file>', 'YAML or JSON systems file (env DOCKWATCH_SYSTEMS_FILE)')
  .option('--max-buffered-documents <n>', 'per system while NATS or the store is down', '120')
  .action((o: Record<string, string | undefined>) => runCollect(o));

broker(common(program.command('process')))
  .description(
    'scale-out role: consume the event log (activity + detection); run N of them, work is split by system',
  )
  .option('--worker-id <id>', 'worker name (default: host and pid)')
  .option('--group <name>', 'workers sharing the systems')
  .option('--lease-ttl-sec <n>', "seconds before a dead worker's systems move")
  .option('--checkpoint-every <n>', 'detector checkpoint cadence, in documents')
  .option('--systems <file>', 'only these systems')
  .action((o: Record<string, string | undefined>) => runProcess(o));

common(program.command('serve'))
  .description('scale-out role: the API and web app over the store (stateless; run N replicas)')
  .option('--host <host>', 'HTTP listen address')
  .option('--port <port>', 'HTTP port')
  .option('--tile-url <url>', "map tiles, '' for none")
  .option('--language <code>', 'default language of the web app')
  .option('--poll-interval-sec <n>', 'cache lifetime of API answers')
  .action((o: Record<string, string | undefined>) => runServe(o));

program
  .command('backtest')
  .description(
    'score detectors on recorded archives with injected faults (locks, partial locks, stuck bikes, outages)',
  )
  .argument('<archives...>', 'archive directories or .jsonl.br files')
  .option('--detectors <names>', 'comma-separated detectors to compare', 'seed,poisson')
  .option('--seed <n>', 'random seed of the fault injection', '1')
  .option('--faults-per-kind <n>', 'injected faults of each kind', '100')
  .option('--outages <n>', 'injected feed outages', '12')
  .option('--min-history-days <n>', 'days of history before judging a station')
  .option('--gap-sec <n>', 'blind after this many seconds without a document')
  .option('--stuck-max-hours <n>', 'longest injected stuck-bikes / blocked-docks fault (default 24)')
  .option('--blocked-docks-faults <n>', 'injected blocked-docks faults (default 0)')
  .option('--json <file>', 'write machine-readable results')
  .option('--json-changes', 'include every state change in the JSON')
  .action(async (archives: string[], opts: Record<string, string | boolean | undefined>) => {
    const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
    await runBacktest({
      archives,
      detectors: str('detectors'),
      seed: str('seed'),
      faultsPerKind: str('faultsPerKind'),
      outages: str('outages'),
      minHistoryDays: str('minHistoryDays'),
      gapThresholdSec: str('gapSec'),
      stuckMaxHours: str('stuckMaxHours'),
      blockedDocksFaults: str('blockedDocksFaults'),
      json: str('json'),
      jsonChanges: opts['jsonChanges'] === true,
    });
  });

program
  .command('demo')
  .description('offline demo: a simulated city with a few locked stations, detected within minutes')
  .option('--port <port>', 'HTTP port of the web app', '8080')
  .option('--host <host>', 'listen address', '127.0.0.1')
  .option('--database <path>', 'SQLite file (default: a fresh file under ./data)')
  .option('--log-level <level>', 'trace|debug|info|warn|error')
  .action((opts: Record<string, string | undefined>) => runDemo(opts));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`dockwatch: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`dockwatch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
