/**
 * The scale-out deployment (issue 6) on PostgreSQL + NATS JetStream, with the real roles as child
 * processes (`node dist/cli/main.js collect | process | serve`). Two measurements:
 *
 *   npx tsx bench/scale-out.ts lag    [--systems 200] [--stations 1000] [--poll-sec 60]
 *                                     [--warmup-min 2] [--minutes 10] [--workers 2] [--probe-systems 20]
 *   npx tsx bench/scale-out.ts replay [--systems 20] [--stations 1000] [--docs 120] [--max-workers 2]
 *
 * common: [--pg postgres://postgres@127.0.0.1:5432/test] [--nats nats://127.0.0.1:4222]
 *         [--detector seed] [--keep]
 * Needs `npm run build:server`. Every run uses a fresh PostgreSQL schema and JetStream stream,
 * dropped at the end unless --keep.
 *
 * lag: the simulator serves N systems of S stations (one HTTP simulator each, real time, one
 * document a minute); `collect` polls them every --poll-sec (its first polls spread over one
 * interval), `--workers` `process` workers consume, one `serve` answers. For every document:
 *   - published: when the collector published it to the snapshots stream (this script subscribes
 *     to the stream's subjects with a core NATS subscription);
 *   - processed: when a worker's /metrics first shows that document time as processed
 *     (`dockwatch_process_document_time_seconds`, scraped every --scrape-ms);
 *   - in the API: when GET /api/v1/systems/:id/stations of `serve` first answers with that
 *     document time (probed every --probe-ms for --probe-systems systems);
 *   - end to end = the later of processed and in the API, minus published.
 * Measured by polling, so each figure is late by up to one polling period (an upper bound).
 *
 * replay: documents of N systems are first published to JetStream (in this process, not timed);
 * then 1, then 2 … `process` workers (each run on a fresh schema: same work) consume everything,
 * timed from their start until every consumer offset reaches the end of its system's events.
 * CPU seconds of the workers, of PostgreSQL and of nats-server (from `ps`) say where the time goes.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { openJetStreamLog, SnapshotLog, SystemCollector } from '../src/broker/index.js';
import { parseStationInformation, parseStationStatus } from '../src/feed/index.js';
import { silentLogger } from '../src/log/index.js';
import { generateDocuments, startSimulator, type SimulatorHandle } from '../src/sim/index.js';
import { openStore } from '../src/storage/index.js';
import {
  assertBuilt,
  cliPath,
  flag,
  loadAvg,
  makeTmpDir,
  numberOption,
  option,
  printTable,
  progress,
  report,
  reportSkipped,
  round,
  sleep,
  spawnMeasured,
  type MeasuredChild,
} from './lib.js';

const mode = process.argv[2];
const PG = option(
  'pg',
  process.env['DOCKWATCH_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
);
const NATS = option('nats', process.env['DOCKWATCH_NATS_URL'] ?? 'nats://127.0.0.1:4222');
const keep = flag('keep');
const detector = option('detector', 'seed');
const tag = randomBytes(3).toString('hex');
const schema = `dockwatch_bench_${tag}`;
const stream = `BENCH_${tag.toUpperCase()}`;
const database = (s: string): string => `${PG}${PG.includes('?') ? '&' : '?'}schema=${s}`;
const systemId = (i: number): string => `s${String(i).padStart(3, '0')}`;

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function statsOf(xs: number[]): Record<string, number> {
  return {
    p50: round(quantile(xs, 0.5), 2),
    p99: round(quantile(xs, 0.99), 2),
    max: round(Math.max(...xs), 2),
  };
}

/** Cumulative CPU seconds (user + system) of every live process named `name`, from /proc. */
function cpuOf(name: string): number {
  let pids: string[];
  try {
    pids = execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return NaN; // no such process
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return round(ticks / 100, 2); // USER_HZ = 100 on Linux
}

function role(name: string, args: string[], inSchema = schema): MeasuredChild {
  // DOCKWATCH_BENCH_PROFILE_DIR: a V8 CPU profile of every role, written when it exits.
  const profileDir = process.env['DOCKWATCH_BENCH_PROFILE_DIR'];
  const m = spawnMeasured(cliPath, [name, '--database', database(inSchema), ...args], {
    ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
    env: {
      DOCKWATCH_LOG_LEVEL: process.env['DOCKWATCH_LOG_LEVEL'] ?? 'warn',
      DOCKWATCH_NATS_URL: NATS,
      DOCKWATCH_NATS_STREAM: stream,
    },
  });
  let tail = '';
  m.child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString('utf8')).slice(-4000);
    if (process.env['DOCKWATCH_BENCH_VERBOSE']) process.stderr.write(`[${name}] ${d.toString('utf8')}`);
  });
  void m.done.then((o) => {
    if (o.code !== 0 && o.signal !== 'SIGTERM')
      process.stderr.write(`${name} exited ${o.code ?? o.signal}: ${tail}\n`);
  });
  return m;
}

async function stopAll(children: MeasuredChild[]): Promise<void> {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((c) => c.done)), sleep(20_000)]);
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
}

async function dropEverything(schemas: string[]): Promise<void> {
  if (keep) {
    progress(`kept schema(s) ${schemas.join(', ')} and stream ${stream}`);
    return;
  }
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
  const log = await openJetStreamLog({ url: NATS, stream });
  await log.destroy();
  await log.close();
}

function freePort(): number {
  // Ports for /metrics and serve: high, random, checked by the child's listen (it exits on EADDRINUSE).
  return 20_000 + Math.floor(Math.random() * 20_000);
}

/** `name{system="x"} value` samples of one metric. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}\\{(?:system|consumer)="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) out.set(m[1]!, Number(m[2]));
  return out;
}

async function lagBench(): Promise<void> {
  const systems = numberOption('systems', 200);
  const stations = numberOption('stations', 1000);
  const pollSec = numberOption('poll-sec', 60);
  const warmupMin = numberOption('warmup-min', 2);
  const minutes = numberOption('minutes', 10);
  const workers = numberOption('workers', 2);
  const probeSystems = Math.min(systems, numberOption('probe-systems', 20));
  const probeMs = numberOption('probe-ms', 500);
  const scrapeMs = numberOption('scrape-ms', 500);
  const loadBefore = loadAvg();
  const tmp = makeTmpDir('scale-lag');
  const sims: SimulatorHandle[] = [];
  const children: MeasuredChild[] = [];
  progress(`starting ${systems} simulators of ${stations} stations`);
  for (let i = 0; i < systems; i++) {
    sims.push(
      await startSimulator({
        seed: `bench-${i}`,
        stations: { synthetic: { count: stations } },
        systemId: systemId(i),
        systemName: `Bench ${i}`,
      }),
    );
  }
  const systemsFile = path.join(tmp.dir, 'systems.yaml');
  writeFileSync(
    systemsFile,
    'systems:\n' +
      sims
        .map(
          (s, i) =>
            `  - { id: ${systemId(i)}, feedUrl: "${s.url}/gbfs.json", pollIntervalSec: ${pollSec} }\n`,
        )
        .join(''),
  );

  // document key `system|timeSec` → wall-clock ms of each milestone
  const published = new Map<string, number>();
  const processed = new Map<string, number>();
  const inApi = new Map<string, number>();
  // Stages in between, for the probed systems only (where a late document waited):
  const eventsIn = new Map<string, number>(); // its `snapshot` event reached the events stream
  const stateSaved = new Map<string, number>(); // collect committed its diff state (diff_state)
  const healthSaved = new Map<string, number>(); // collect saved feed_health (what serve's refresh reads)
  const processedBy = new Map<string, string>(); // which worker
  const nc = await connect({ servers: NATS.replace(/^nats:\/\//, '') });
  const sub = nc.subscribe(`dockwatch.snapshots.${stream}.>`);
  const probedIds = Array.from({ length: probeSystems }, (_, i) => systemId(i));
  const eventSubs = probedIds.map((system) => {
    const s = nc.subscribe(`dockwatch.${stream}.${system}._system`);
    void (async () => {
      for await (const m of s) {
        const e = JSON.parse(new TextDecoder().decode(m.data)) as { type: string; timeSec: number };
        if (e.type === 'snapshot') {
          const key = `${system}|${e.timeSec}`;
          if (!eventsIn.has(key)) eventsIn.set(key, Date.now());
        }
      }
    })();
    return s;
  });
  void (async () => {
    for await (const m of sub) {
      const at = Date.now();
      const system = m.subject.slice(m.subject.lastIndexOf('.') + 1);
      const body = JSON.parse(gunzipSync(m.data).toString('utf8')) as { doc: { lastUpdatedSec: number } };
      const key = `${system}|${body.doc.lastUpdatedSec}`;
      if (!published.has(key)) published.set(key, at);
    }
  })();
  /** Marks every published document of `system` up to `timeSec` as reached at `at`. */
  const reach = (into: Map<string, number>, system: string, timeSec: number, at: number): void => {
    for (const key of published.keys()) {
      if (into.has(key)) continue;
      const bar = key.indexOf('|');
      if (key.slice(0, bar) === system && Number(key.slice(bar + 1)) <= timeSec) into.set(key, at);
    }
  };

  const metricsPorts = Array.from({ length: workers + 1 }, freePort);
  const servePort = freePort();
  children.push(role('collect', ['--systems', systemsFile, '--metrics-port', String(metricsPorts[0])]));
  for (let w = 0; w < workers; w++)
    children.push(
      role('process', [
        '--worker-id',
        `w${w + 1}`,
        '--detector',
        detector,
        '--metrics-port',
        String(metricsPorts[w + 1]),
      ]),
    );
  while (published.size === 0) await sleep(200);
  const serve = role('serve', ['--port', String(servePort), '--system', systemId(0), '--tile-url', '']);
  children.push(serve);
  const serveUrl = `http://127.0.0.1:${servePort}`;

  let stopPolling = false;
  let maxConsumerLag = 0;
  const stageDb = new pg.Client({ connectionString: PG });
  await stageDb.connect();
  const stageLoop = (async () => {
    while (!stopPolling) {
      const t = Date.now();
      try {
        for (const [table, into] of [
          ['diff_state', stateSaved],
          ['feed_health', healthSaved],
        ] as const) {
          const r = await stageDb.query<{ system_id: string; last_document_sec: string | null }>(
            `SELECT s.key AS system_id, t.last_document_sec FROM ${schema}.${table} t
             JOIN ${schema}.systems s ON s.id = t.system_id WHERE s.key = ANY($1)`,
            [probedIds],
          );
          const at = Date.now();
          for (const row of r.rows)
            if (row.last_document_sec !== null) reach(into, row.system_id, Number(row.last_document_sec), at);
        }
      } catch {
        // tables not created yet
      }
      await sleep(Math.max(0, 250 - (Date.now() - t)));
    }
  })();
  const scrapeLoop = (async () => {
    while (!stopPolling) {
      const t = Date.now();
      for (const port of metricsPorts.slice(1)) {
        try {
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          const at = Date.now();
          for (const [system, timeSec] of samples(text, 'dockwatch_process_document_time_seconds')) {
            reach(processed, system, timeSec, at);
            processedBy.set(system, String(port));
          }
          for (const v of samples(text, 'dockwatch_consumer_lag_events').values())
            maxConsumerLag = Math.max(maxConsumerLag, v);
        } catch {
          // worker not listening yet
        }
      }
      await sleep(Math.max(0, scrapeMs - (Date.now() - t)));
    }
  })();
  const probeLoop = (async () => {
    while (!stopPolling) {
      const t = Date.now();
      await Promise.all(
        Array.from({ length: probeSystems }, async (_, i) => {
          const system = systemId(i);
          try {
            const res = await fetch(`${serveUrl}/api/v1/systems/${system}/stations`);
            const reader = res.body!.getReader();
            // `{"system":"…","timeSec":…` comes first: read no further than that.
            let head = '';
            const decoder = new TextDecoder();
            let m: RegExpExecArray | null = null;
            while (m === null && head.length < 4096) {
              const { value, done } = await reader.read();
              if (done) break;
              head += decoder.decode(value, { stream: true });
              m = /"timeSec":(\d+)/.exec(head);
            }
            await reader.cancel();
            if (m && res.status === 200) reach(inApi, system, Number(m[1]), Date.now());
          } catch {
            // serve not listening yet
          }
        }),
      );
      await sleep(Math.max(0, probeMs - (Date.now() - t)));
    }
  })();

  progress(`warm-up ${warmupMin} min (first documents carry every station; polls spread over a minute)`);
  await sleep(warmupMin * 60_000);
  const windowStart = Date.now();
  const cpuStart = children.map((c) => c.currentCpuSec() ?? NaN);
  const pgCpu0 = cpuOf('postgres');
  const natsCpu0 = cpuOf('nats-server');
  const load1 = loadAvg();
  progress(`measuring ${minutes} min`);
  await sleep(minutes * 60_000);
  const windowEnd = Date.now();
  const cpuEnd = children.map((c) => c.currentCpuSec() ?? NaN);
  const pgCpu = cpuOf('postgres') - pgCpu0;
  const natsCpu = cpuOf('nats-server') - natsCpu0;
  progress('letting the last documents through (30 s)');
  await sleep(30_000);
  stopPolling = true;
  await Promise.all([scrapeLoop, probeLoop, stageLoop]);
  await stageDb.end();
  for (const s of eventSubs) s.unsubscribe();
  const rss = children.map((c) => round(c.polledPeakRssBytes() / 1e6));

  const inWindow = [...published].filter(([, at]) => at >= windowStart && at < windowEnd);
  const probed = new Set(Array.from({ length: probeSystems }, (_, i) => systemId(i)));
  const lagsOf = (
    milestone: Map<string, number>,
    keys: [string, number][],
  ): { lags: number[]; missing: number } => {
    const lags: number[] = [];
    let missing = 0;
    for (const [key, at] of keys) {
      const t = milestone.get(key);
      if (t === undefined) missing++;
      else lags.push((t - at) / 1000);
    }
    return { lags, missing };
  };
  const proc = lagsOf(processed, inWindow);
  const probedDocs = inWindow.filter(([k]) => probed.has(k.slice(0, k.indexOf('|'))));
  const api = lagsOf(inApi, probedDocs);
  const e2e: number[] = [];
  let e2eMissing = 0;
  for (const [key, at] of probedDocs) {
    const a = inApi.get(key);
    const p = processed.get(key);
    if (a === undefined || p === undefined) e2eMissing++;
    else e2e.push((Math.max(a, p) - at) / 1000);
  }
  // Per-stage breakdown of the probed documents: each stage's wait, and the worst documents whole.
  const stageNames = ['events', 'diffState', 'feedHealth', 'api', 'processed'] as const;
  const stageRows = probedDocs.map(([key, at]) => {
    const rel = (m: Map<string, number>): number | null => {
      const t = m.get(key);
      return t === undefined ? null : round((t - at) / 1000, 2);
    };
    return {
      key,
      publishedAtSec: round((at - windowStart) / 1000, 1),
      events: rel(eventsIn),
      diffState: rel(stateSaved),
      feedHealth: rel(healthSaved),
      api: rel(inApi),
      processed: rel(processed),
      worker: processedBy.get(key.slice(0, key.indexOf('|'))) ?? null,
    };
  });
  const stageStats = Object.fromEntries(
    stageNames.map((n) => {
      const xs = stageRows.map((r) => r[n]).filter((x): x is number => x !== null);
      return [n, { ...(xs.length > 0 ? statsOf(xs) : {}), missing: stageRows.length - xs.length }];
    }),
  );
  const worst = [...stageRows]
    .sort((a, b) => Math.max(b.api ?? 1e9, b.processed ?? 1e9) - Math.max(a.api ?? 1e9, a.processed ?? 1e9))
    .slice(0, 12);
  process.stderr.write(
    `stages (s after published, probed documents): ${JSON.stringify(stageStats)}\nworst: ${worst
      .map((r) => JSON.stringify(r))
      .join('\n       ')}\n`,
  );
  const stagesFile = process.env['DOCKWATCH_BENCH_STAGES_FILE'];
  if (stagesFile) writeFileSync(stagesFile, JSON.stringify(stageRows));
  const windowSec = (windowEnd - windowStart) / 1000;
  const stats = statsOf;
  const names = ['collect', ...Array.from({ length: workers }, (_, w) => `process w${w + 1}`), 'serve'];
  // Why a document was late: the collector's retries, and what each role warned about.
  let collectorProblems: Record<string, number> = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPorts[0]}/metrics`)).text();
    for (const name of [
      'dockwatch_collector_publish_failures_total',
      'dockwatch_collector_dropped_documents_total',
      'dockwatch_store_errors_total',
    ])
      collectorProblems[name] = [...samples(text, name).values()].reduce((a, b) => a + b, 0);
  } catch {
    collectorProblems = { unreachable: 1 };
  }
  const detail = {
    collectorProblems,
    systems,
    stations,
    pollSec,
    workers,
    minutes,
    documents: inWindow.length,
    observationsPerSec: round((inWindow.length * stations) / windowSec),
    processedLagSec: { ...stats(proc.lags), missing: proc.missing },
    apiLagSec: { ...stats(api.lags), documents: probedDocs.length, missing: api.missing, probeSystems },
    endToEndLagSec: { ...stats(e2e), missing: e2eMissing },
    maxConsumerLagEvents: maxConsumerLag,
    cpuSecInWindow: Object.fromEntries(
      names.map((n, i) => [n, round((cpuEnd[i] ?? NaN) - (cpuStart[i] ?? NaN), 1)]),
    ),
    postgresCpuSec: pgCpu,
    natsCpuSec: natsCpu,
    peakRssMB: Object.fromEntries(names.map((n, i) => [n, rss[i]])),
    loadAtWindowStart: load1,
    resolution: `probe ${probeMs} ms, scrape ${scrapeMs} ms (figures are late by up to that)`,
  };
  report({
    bench: 'scale-out-lag',
    metric: 'end_to_end_lag_p99',
    value: round(quantile(e2e, 0.99), 2),
    unit: 's',
    goal: { op: '<=', value: 5 },
    loadBefore,
    wallSec: windowSec,
    detail,
  });
  await stopAll(children);
  const warnings: Record<string, Record<string, number>> = {};
  for (const [i, c] of children.entries()) {
    const out = await c.done;
    const logDir = process.env['DOCKWATCH_BENCH_LOG_DIR'];
    if (logDir)
      writeFileSync(path.join(logDir, `${(names[i] ?? String(i)).replace(' ', '-')}.log`), out.stdout);
    const counts: Record<string, number> = {};
    for (const line of out.stdout.split('\n')) {
      const m = /"level":(\d+).*"msg":"([^"]*)"/.exec(line);
      if (!m || Number(m[1]) < 40) continue;
      // The error message says which failure it was (pool wait, publish timeout …); numbers vary.
      const err = /"err":"([^"]*)"/.exec(line)?.[1]?.replace(/\d+/g, 'N');
      const msg = m[2]!.replace(/\d+/g, 'N');
      const key = err === undefined ? msg : `${msg} [${err}]`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    warnings[names[i] ?? String(i)] = counts;
  }
  process.stderr.write(`warnings and errors logged, by role: ${JSON.stringify(warnings)}\n`);
  await sub.drain();
  await nc.close();
  for (const s of sims) await s.close();
  tmp.cleanup();
  await dropEverything([schema]);
}

async function replayBench(): Promise<void> {
  const systems = numberOption('systems', 20);
  const stations = numberOption('stations', 1000);
  const docs = numberOption('docs', 120);
  const maxWorkers = numberOption('max-workers', 2);
  const loadBefore = loadAvg();
  // 1. Publish, as collectors would (not timed).
  progress(`publishing ${systems} systems × ${docs} documents of ${stations} stations`);
  const publishStore = await openStore(database(schema));
  const log = await openJetStreamLog({ url: NATS, stream });
  const snapshots = await SnapshotLog.open(log);
  const fromSec = Date.UTC(2026, 4, 4, 5) / 1000;
  const timezone = 'Europe/Paris';
  for (let i = 0; i < systems; i++) {
    const system = systemId(i);
    await publishStore.upsertSystem({
      id: system,
      name: system,
      feedUrl: 'http://127.0.0.1/gbfs.json',
      timezone,
    });
    const collector = new SystemCollector({
      store: publishStore,
      log,
      snapshots,
      system,
      gapThresholdSec: 180,
      maxBufferedDocuments: docs + 10,
      logger: silentLogger,
    });
    let first = true;
    for (const d of generateDocuments({
      seed: `replay-${i}`,
      stations: { synthetic: { count: stations } },
      fromSec,
      toSec: fromSec + (docs - 1) * 60,
      stepSec: 60,
    })) {
      if (first && d.informationDoc) {
        const info = parseStationInformation(d.informationDoc);
        if (info.ok) collector.enqueueInformation(info.doc);
      }
      first = false;
      const status = parseStationStatus(d.statusDoc);
      if (status.ok) collector.enqueueStatus(status.doc);
    }
    await collector.whenIdle();
    await collector.stop();
  }
  const ends = new Map<string, number>();
  let events = 0;
  for (let i = 0; i < systems; i++) {
    const view = log.forSystem(systemId(i));
    ends.set(systemId(i), await view.lastOffset());
    events += (await view.read(0, 10_000_000)).length;
    await view.close();
  }
  await publishStore.close();
  await log.close();
  progress(`${events.toLocaleString('en')} events in the stream`);

  // 2. Consume with 1, 2 … workers, each run on a fresh schema holding only the systems.
  const schemas = [schema];
  const rates: number[] = [];
  for (let n = 1; n <= maxWorkers; n++) {
    const runSchema = `${schema}_w${n}`;
    schemas.push(runSchema);
    const store = await openStore(database(runSchema));
    for (let i = 0; i < systems; i++)
      await store.upsertSystem({
        id: systemId(i),
        name: systemId(i),
        feedUrl: 'http://127.0.0.1/gbfs.json',
        timezone,
      });
    const pg0 = cpuOf('postgres');
    const nats0 = cpuOf('nats-server');
    const load = loadAvg();
    const started = performance.now();
    const workers = Array.from({ length: n }, (_, w) =>
      role(
        'process',
        ['--worker-id', `r${n}w${w + 1}`, '--group', `run${n}`, '--detector', detector],
        runSchema,
      ),
    );
    for (;;) {
      let done = true;
      for (const [system, end] of ends) {
        if (
          (await store.log.consumerOffset(`activity:${system}`)) < end ||
          (await store.log.consumerOffset(`detector:${system}:${detector}`)) < end
        ) {
          done = false;
          break;
        }
      }
      if (done) break;
      await sleep(250);
    }
    const wallSec = (performance.now() - started) / 1000;
    const workerCpu = workers.map((w) => w.currentCpuSec() ?? NaN);
    const pgCpu = cpuOf('postgres') - pg0;
    const natsCpu = cpuOf('nats-server') - nats0;
    await stopAll(workers);
    await store.close();
    const rate = events / wallSec;
    rates.push(rate);
    report({
      bench: 'scale-out-replay',
      metric: `events_per_sec_${n}_worker${n > 1 ? 's' : ''}`,
      value: round(rate),
      unit: 'events/s',
      loadBefore: load,
      wallSec,
      cpuSec: workerCpu.reduce((a, b) => a + b, 0),
      detail: {
        systems,
        stations,
        documents: systems * docs,
        events,
        observationsPerSec: round((systems * docs * stations) / wallSec),
        workerCpuSec: workerCpu.map((c) => round(c, 1)),
        postgresCpuSec: pgCpu,
        natsCpuSec: natsCpu,
        cpuSecPerThousandEvents: round((workerCpu.reduce((a, b) => a + b, 0) * 1000) / events, 3),
      },
    });
  }
  if (rates.length > 1)
    report({
      bench: 'scale-out-replay',
      metric: `speedup_${rates.length}_vs_1_workers`,
      value: round(rates[rates.length - 1]! / rates[0]!, 2),
      unit: '×',
      loadBefore,
    });
  await dropEverything(schemas);
}

const missing = assertBuilt();
if (missing) reportSkipped('scale-out', missing);
else if (mode === 'lag') await lagBench();
else if (mode === 'replay') await replayBench();
else {
  process.stderr.write('usage: npx tsx bench/scale-out.ts lag|replay [options] (see the header)\n');
  process.exit(2);
}
printTable();
