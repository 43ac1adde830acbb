/**
 * `GET /api/v1/stations` under load (issue 4): 1,495 Vélib' stations, a load generator in a SECOND
 * process at 200 connections. Goals: p99 ≤ 10 ms, ≥ 10,000 requests/s, payload ≤ 40 KB compressed.
 *
 *   npx tsx bench/api-stations.ts [--client wrk|autocannon] [--threads 1] [--duration 30]
 *       [--connections 200] [--encodings br,gzip] [--mode inproc|serve|watch]
 *       [--best-wait-sec 30] [--profile <file.cpuprofile>]
 *
 * --client wrk (default when `wrk` is on the PATH; Debian package `wrk`): C, one thread by default,
 *   so it takes one core of a 2-core machine and leaves the other to the server. autocannon (Node)
 *   costs several times more CPU per request than the server and then measures itself.
 * --mode inproc (default when ../shared is there): the API server runs in this process on a real
 *   SQLite store filled as the API tests fill it (test/api/fixture.ts: the real Vélib' snapshot, 14
 *   days of activity, locked and partly locked stations), so the payload is that of a running city.
 * --mode serve: the same store, served by a `dockwatch serve` child process (the stateless API
 *   replica of issue 6, refreshing from the store).
 * --mode watch: a real `dockwatch watch` child process polls the simulator (in this process) serving
 *   the Vélib' stations (or a synthetic city of 1,500), after an 8-day pre-fill; the child's CPU
 *   then includes polling, the pipeline and one rebuild of the answer per poll.
 * The server's CPU time per request is reported too: unlike req/s it hardly moves with the load of
 * other processes, and 1000 / (CPU ms per request) is the rate one free core could serve.
 * --profile (inproc only) records a V8 CPU profile of the server during the load and prints the
 * functions with the most self time.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { prefillFromSimulator } from '../src/service/prefill.js';
import { startSimulator, type SimulatorHandle, type StationSource } from '../src/sim/index.js';
import { openSqliteStore, type Store } from '../src/storage/index.js';
import { hasVelib, seedVelibStore } from '../test/api/fixture.js';
import { startApi } from '../test/api/helpers.js';
import {
  assertBuilt,
  cliPath,
  cpuSecSince,
  loadAvg,
  makeTmpDir,
  numberOption,
  option,
  printTable,
  progress,
  repoRoot,
  report,
  reportSkipped,
  round,
  sharedDir,
  sleep,
  spawnMeasured,
  topSelfTime,
  type MeasuredChild,
} from './lib.js';

const BENCH = 'api-stations';
const autocannonPath = path.join(repoRoot, 'node_modules/autocannon/autocannon.js');
const wrkScript = path.join(repoRoot, 'bench/wrk-report.lua');

/** Raw (still compressed) body size and headers, as the client receives them. */
function fetchRaw(
  url: string,
  encoding: string,
): Promise<{ status: number; bytes: number; contentEncoding: string | null; etag: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          contentEncoding: res.headers['content-encoding'] ?? null,
          etag: res.headers.etag ?? null,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface AutocannonResult {
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { average: number; total: number };
  throughput: { average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

/** What bench/wrk-report.lua prints (latencies in microseconds). */
interface WrkReport {
  requests: number;
  durationUs: number;
  bytes: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  non2xx3xx: number;
  timeouts: number;
}

/** One load run, whatever the client. */
interface LoadResult {
  requests: number;
  reqPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number | null; avg: number; max: number };
  /** Bytes received per response, headers included. */
  bytesPerResponse: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  /** CPU seconds of the load generator (user + system). */
  clientCpuSec: number | null;
}

interface LoadOptions {
  endpoint: string;
  encoding: string;
  connections: number;
  durationSec: number;
  threads: number;
}

/**
 * wrk under `bash -c '…; times'`: the shell's `times` prints the CPU time of its finished
 * children, i.e. wrk's, exactly (no polling of /proc).
 */
function runWrk(o: LoadOptions): Promise<LoadResult> {
  const args = [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.durationSec}s`,
    '--latency',
    '-s',
    wrkScript,
    '-H',
    `Accept-Encoding: ${o.encoding}`,
    o.endpoint,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'wrk "$@"; status=$?; times; exit $status', 'wrk', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk exited with ${String(code)}: ${(err + out).slice(-2000)}`));
        return;
      }
      const r = JSON.parse(line) as WrkReport;
      // `times`: the shell's own user/system, then its children's ("0m1.234s 0m0.567s").
      const childTimes = out.trim().split('\n').pop() ?? '';
      const secs = [...childTimes.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      const ms = (us: number) => round(us / 1000, 2);
      resolve({
        requests: r.requests,
        reqPerSec: round(r.requests / (r.durationUs / 1e6)),
        latencyMs: {
          p50: ms(r.p50),
          p90: ms(r.p90),
          p99: ms(r.p99),
          p999: ms(r.p999),
          avg: ms(r.mean),
          max: ms(r.max),
        },
        bytesPerResponse: r.requests > 0 ? Math.round(r.bytes / r.requests) : 0,
        errors: r.connectErrors + r.readErrors + r.writeErrors,
        non2xx: r.non2xx3xx,
        timeouts: r.timeouts,
        clientCpuSec: secs.length === 2 ? round(secs[0]! + secs[1]!, 2) : null,
      });
    });
  });
}

async function runAutocannon(o: LoadOptions): Promise<LoadResult> {
  const cannon = spawnMeasured(autocannonPath, [
    '-c',
    String(o.connections),
    '-d',
    String(o.durationSec),
    '-j',
    '-H',
    `accept-encoding=${o.encoding}`,
    o.endpoint,
  ]);
  const out = await cannon.done;
  if (out.code !== 0)
    throw new Error(`autocannon exited with ${String(out.code ?? out.signal)}: ${out.stderr.slice(-2000)}`);
  const r = JSON.parse(out.stdout.trim().split('\n').pop()!) as AutocannonResult;
  return {
    requests: r.requests.total,
    reqPerSec: round(r.requests.average),
    latencyMs: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      p999: null,
      avg: r.latency.average,
      max: r.latency.max,
    },
    bytesPerResponse:
      r.requests.total > 0 ? Math.round((r.throughput.average * o.durationSec) / r.requests.total) : 0,
    errors: r.errors,
    non2xx: r.non2xx,
    timeouts: r.timeouts,
    clientCpuSec: out.cpuSec !== null ? round(out.cpuSec, 2) : null,
  };
}

function wrkAvailable(): boolean {
  return (process.env['PATH'] ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, 'wrk')));
}

interface Server {
  url: string;
  /** CPU seconds of the server process so far (null when unknown until it exits). */
  cpuSec(): number | null;
  stop(): Promise<number | null>;
  stations: number;
}

async function inprocServer(dir: string): Promise<Server> {
  progress('seeding a store with the Vélib’ snapshot and 14 days of activity (as test/api does)');
  const seeded = await seedVelibStore(path.join(dir, 'api.sqlite'));
  const running = await startApi(seeded.store, { tileUrl: '' });
  const cpu0 = process.cpuUsage();
  return {
    url: running.base,
    stations: seeded.infos.length,
    cpuSec: () => cpuSecSince(cpu0),
    stop: async () => {
      await running.app.close();
      await seeded.store.close();
      return null;
    },
  };
}

async function watchServer(dir: string): Promise<Server> {
  const velibDir = path.join(sharedDir, 'data/velib-2025-10');
  const stations: StationSource = existsSync(path.join(velibDir, 'station_information.json'))
    ? { path: velibDir }
    : { synthetic: { count: 1500 } };
  const database = path.join(dir, 'watch.sqlite');
  const liveStartSec = Math.floor(Date.now() / 1000) - 120;
  const sim: SimulatorHandle = await startSimulator({
    seed: 'bench',
    stations,
    startSec: liveStartSec - 8 * 86_400,
    speed: 0,
  });
  progress(`pre-filling 8 days of ${sim.simulation.stations.length} stations`);
  const store: Store = openSqliteStore({ path: database });
  await store.migrate();
  await prefillFromSimulator({
    sim,
    store,
    system: 'velib',
    timeZone: 'Europe/Paris',
    untilSec: liveStartSec,
    stepSec: 600,
  });
  await store.close();
  sim.setSpeed(1);
  const child = await startCliServer('watch', [
    '--feed',
    `${sim.url}/velib/gbfs.json`,
    '--system',
    'velib',
    '--timezone',
    'Europe/Paris',
    '--database',
    database,
  ]);
  return {
    url: child.url,
    stations: sim.simulation.stations.length,
    cpuSec: () => child.child.currentCpuSec(),
    stop: async () => {
      const cpu = await child.stop();
      await sim.close();
      return cpu;
    },
  };
}

/** `dockwatch serve` over the store test/api fills (the stateless API replica of issue 6). */
async function serveServer(dir: string): Promise<Server> {
  progress('seeding a store with the Vélib’ snapshot and 14 days of activity (as test/api does)');
  const database = path.join(dir, 'serve.sqlite');
  const seeded = await seedVelibStore(database);
  await seeded.store.close();
  const child = await startCliServer('serve', ['--database', database, '--system', 'velib']);
  return {
    url: child.url,
    stations: seeded.infos.length,
    cpuSec: () => child.child.currentCpuSec(),
    stop: () => child.stop(),
  };
}

/** Starts `dockwatch <command>` on 127.0.0.1, port 0; resolves once GET /api/v1/stations answers. */
async function startCliServer(
  command: 'watch' | 'serve',
  args: string[],
): Promise<{ url: string; child: MeasuredChild; stop: () => Promise<number | null> }> {
  const found: { url: string | null } = { url: null };
  const child: MeasuredChild = spawnMeasured(
    cliPath,
    [command, ...args, '--host', '127.0.0.1', '--port', '0', '--tile-url', ''],
    {
      env: { DOCKWATCH_LOG_LEVEL: 'info' },
      onLine: (line) => {
        if (found.url !== null || !line.includes('"url"')) return;
        try {
          const { url, msg } = JSON.parse(line) as { url?: unknown; msg?: unknown };
          // Both log "… web app … at <url>" once listening.
          if (typeof url === 'string' && typeof msg === 'string' && /web app/.test(msg) && msg.includes(url))
            found.url = url;
        } catch {
          // Not a JSON log line.
        }
      },
    },
  );
  for (
    let i = 0;
    i < 600 && (found.url === null || (await fetchRaw(`${found.url}/api/v1/stations`, 'br')).status !== 200);
    i++
  )
    await sleep(100);
  if (found.url === null) {
    child.child.kill('SIGTERM');
    const out = await child.done;
    throw new Error(`dockwatch ${command} did not start: ${out.stderr.slice(-2000)}`);
  }
  return {
    url: found.url,
    child,
    stop: async () => {
      child.child.kill('SIGTERM');
      return (await child.done).cpuSec;
    },
  };
}

async function main(): Promise<void> {
  const durationSec = numberOption('duration', 30);
  const connections = Math.round(numberOption('connections', 200));
  const encodings = option('encodings', 'br,gzip')
    .split(',')
    .filter((e) => e.length > 0);
  const threads = Math.max(1, Math.round(numberOption('threads', 1)));
  const mode = option('mode', hasVelib ? 'inproc' : 'watch');
  const client = option('client', wrkAvailable() ? 'wrk' : 'autocannon');
  if (client === 'wrk') {
    if (!wrkAvailable()) return reportSkipped(BENCH, 'wrk is not on the PATH (apt-get install wrk)');
  } else if (client !== 'autocannon') throw new Error(`--client must be wrk or autocannon, got "${client}"`);
  else if (!existsSync(autocannonPath)) return reportSkipped(BENCH, `${autocannonPath} is missing`);
  if (mode !== 'inproc' && mode !== 'serve' && mode !== 'watch')
    throw new Error(`--mode must be inproc, serve or watch, got "${mode}"`);
  if (mode !== 'inproc') {
    const notBuilt = assertBuilt();
    if (notBuilt) return reportSkipped(BENCH, notBuilt);
  }
  if (mode !== 'watch' && !hasVelib)
    return reportSkipped(BENCH, `--mode ${mode} needs ../shared/data/velib-2025-10 (try --mode watch)`);

  const { dir, cleanup } = makeTmpDir('api');
  const server =
    mode === 'inproc'
      ? await inprocServer(dir)
      : mode === 'serve'
        ? await serveServer(dir)
        : await watchServer(dir);
  const endpoint = `${server.url}/api/v1/stations`;
  try {
    // Payload sizes. The API serves brotli 5 at once and swaps in brotli 11 when its background
    // pass is done (seconds): wait for that swap, the steady state, before measuring anything.
    const identity = await fetchRaw(endpoint, 'identity');
    const brFirst = await fetchRaw(endpoint, 'br');
    // In --mode watch the data (ETag) moves with every poll: a body of a newer ETag starts over.
    let quick = brFirst;
    let brBytes = brFirst.bytes;
    const waitStartedMs = Date.now();
    while (brBytes === quick.bytes && Date.now() - waitStartedMs < numberOption('best-wait-sec', 30) * 1000) {
      await sleep(200);
      const next = await fetchRaw(endpoint, 'br');
      if (next.etag !== quick.etag) quick = next;
      brBytes = next.bytes;
    }
    const bestWaitSec = round((Date.now() - waitStartedMs) / 1000, 1);
    if (brBytes === quick.bytes)
      progress(`the brotli body did not change in ${bestWaitSec} s (already the best, or the pass is slow)`);
    for (const encoding of encodings) {
      const loadBefore = loadAvg();
      const raw = await fetchRaw(endpoint, encoding);
      if (raw.status !== 200) throw new Error(`GET /api/v1/stations answered ${raw.status}`);
      report({
        bench: BENCH,
        metric: `payload_${encoding}`,
        value: round(raw.bytes / 1024, 1),
        unit: 'KB',
        goal: { op: '<=', value: 40 },
        loadBefore,
        detail: {
          mode,
          stations: server.stations,
          contentEncoding: raw.contentEncoding,
          identityKB: round(identity.bytes / 1024, 1),
          ...(encoding === 'br'
            ? { firstResponseKB: round(quick.bytes / 1024, 1), waitedForBestSec: bestWaitSec }
            : {}),
        },
      });
    }
    for (let i = 0; i < 200; i++) await fetchRaw(endpoint, encodings[i % encodings.length]!);
    const profileFile = option('profile');
    let session: Session | null = null;
    if (profileFile !== undefined) {
      if (mode !== 'inproc') throw new Error('--profile needs --mode inproc');
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }

    for (const encoding of encodings) {
      progress(`${client}: ${connections} connections, ${durationSec} s, Accept-Encoding: ${encoding}`);
      const loadBefore = loadAvg();
      const serverCpu0 = server.cpuSec();
      const load = { endpoint, encoding, connections, durationSec, threads };
      const r = client === 'wrk' ? await runWrk(load) : await runAutocannon(load);
      const serverCpu1 = server.cpuSec();
      const serverCpu = serverCpu0 !== null && serverCpu1 !== null ? serverCpu1 - serverCpu0 : null;
      const detail = {
        mode,
        client,
        ...(client === 'wrk' ? { threads } : {}),
        encoding,
        connections,
        durationSec,
        stations: server.stations,
        latencyMs: r.latencyMs,
        requests: r.requests,
        bytesPerResponse: r.bytesPerResponse,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        serverCpuSec: serverCpu !== null ? round(serverCpu, 2) : null,
        loadGeneratorCpuSec: r.clientCpuSec,
      };
      if (r.errors > 0 || r.non2xx > 0 || r.timeouts > 0)
        progress(`warning: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts`);
      report({
        bench: BENCH,
        metric: `p99_latency_${encoding}`,
        value: r.latencyMs.p99,
        unit: 'ms',
        goal: { op: '<=', value: 10 },
        loadBefore,
        wallSec: durationSec,
        ...(serverCpu !== null ? { cpuSec: serverCpu } : {}),
        detail,
      });
      report({
        bench: BENCH,
        metric: `requests_per_sec_${encoding}`,
        value: r.reqPerSec,
        unit: 'req/s',
        goal: { op: '>=', value: 10_000 },
        loadBefore,
        wallSec: durationSec,
        ...(serverCpu !== null ? { cpuSec: serverCpu } : {}),
        detail: { p50Ms: r.latencyMs.p50, bytesPerResponse: r.bytesPerResponse },
      });
      if (serverCpu !== null && r.requests > 0) {
        const usPerRequest = (1e6 * serverCpu) / r.requests;
        report({
          bench: BENCH,
          metric: `server_cpu_per_request_${encoding}`,
          value: round(usPerRequest, 1),
          unit: 'µs',
          loadBefore,
          cpuSec: serverCpu,
          detail: {
            requests: r.requests,
            oneCoreCapacityReqPerSec: round(1e6 / usPerRequest),
            loadGeneratorCpuUsPerRequest:
              r.clientCpuSec !== null ? round((1e6 * r.clientCpuSec) / r.requests, 1) : null,
          },
        });
      }
    }
    if (session !== null && profileFile !== undefined) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(profileFile, JSON.stringify(profile));
      const top = topSelfTime(profile as unknown as Parameters<typeof topSelfTime>[0], 20);
      process.stderr.write(`\nserver CPU profile (${profileFile}), self time:\n`);
      for (const t of top)
        process.stderr.write(`${String(t.ms).padStart(8)} ms ${t.pct.toFixed(1).padStart(5)} %  ${t.fn}\n`);
    }
  } finally {
    const childCpu = await server.stop();
    if (childCpu !== null) progress(`the dockwatch ${mode} child used ${childCpu.toFixed(1)} CPU s in all`);
    cleanup();
  }
  printTable();
}

await main();
