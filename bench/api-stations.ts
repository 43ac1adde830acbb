/**
 * `GET /api/v1/stations` under load (issue 4): 1,495 Vélib' stations, autocannon in a SECOND
 * process at 200 connections. Goals: p99 ≤ 10 ms, ≥ 10,000 requests/s, payload ≤ 40 KB compressed.
 *
 *   npx tsx bench/api-stations.ts [--duration 30] [--connections 200] [--encodings br,gzip]
 *                                 [--mode inproc|watch] [--best-wait-sec 30] [--profile <file.cpuprofile>] [--keep]
 *
 * --mode inproc (default when ../shared is there): the API server runs in this process on a real
 *   SQLite store filled as the API tests fill it (test/api/fixture.ts: the real Vélib' snapshot, 14
 *   days of activity, locked and partly locked stations), so the payload is that of a running city.
 * --mode watch: a real `dockwatch watch` child process polls the simulator (in this process) serving
 *   the Vélib' stations (or a synthetic city of 1,500), after an 8-day pre-fill; that child is the
 *   server, measured for CPU too.
 * Either way the load generator is its own process, reported with its CPU time: on a 2-core machine
 * it takes one of the two cores, which bounds what the server can reach.
 * The server's CPU time per request is reported too: unlike req/s it hardly moves with the load of
 * other processes, and 1000 / (CPU ms per request) is the rate one free core could serve.
 * --profile (inproc only) records a V8 CPU profile of the server during the load and prints the
 * functions with the most self time.
 */
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

/** Raw (still compressed) body size and headers, as the client receives them. */
function fetchRaw(
  url: string,
  encoding: string,
): Promise<{ status: number; bytes: number; contentEncoding: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          contentEncoding: res.headers['content-encoding'] ?? null,
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
  const found: { url: string | null } = { url: null };
  const child: MeasuredChild = spawnMeasured(
    cliPath,
    [
      'watch',
      '--feed',
      `${sim.url}/velib/gbfs.json`,
      '--system',
      'velib',
      '--timezone',
      'Europe/Paris',
      '--database',
      database,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--tile-url',
      '',
    ],
    {
      env: { DOCKWATCH_LOG_LEVEL: 'info' },
      onLine: (line) => {
        if (found.url !== null || !line.includes('"url"')) return;
        try {
          const { url, msg } = JSON.parse(line) as { url?: unknown; msg?: unknown };
          // The service logs "web app and API at <url>" once listening.
          if (typeof url === 'string' && typeof msg === 'string' && msg.startsWith('web app and API'))
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
  if (found.url === null) throw new Error('dockwatch watch did not start');
  return {
    url: found.url,
    stations: sim.simulation.stations.length,
    cpuSec: () => child.currentCpuSec(),
    stop: async () => {
      child.child.kill('SIGTERM');
      const out = await child.done;
      await sim.close();
      return out.cpuSec;
    },
  };
}

async function main(): Promise<void> {
  const durationSec = numberOption('duration', 30);
  const connections = Math.round(numberOption('connections', 200));
  const encodings = option('encodings', 'br,gzip')
    .split(',')
    .filter((e) => e.length > 0);
  const mode = option('mode', hasVelib ? 'inproc' : 'watch');
  if (!existsSync(autocannonPath)) return reportSkipped(BENCH, `${autocannonPath} is missing`);
  if (mode === 'watch') {
    const notBuilt = assertBuilt();
    if (notBuilt) return reportSkipped(BENCH, notBuilt);
  } else if (mode !== 'inproc') throw new Error(`--mode must be inproc or watch, got "${mode}"`);
  else if (!hasVelib)
    return reportSkipped(BENCH, '--mode inproc needs ../shared/data/velib-2025-10 (try --mode watch)');

  const { dir, cleanup } = makeTmpDir('api');
  const server = mode === 'inproc' ? await inprocServer(dir) : await watchServer(dir);
  const endpoint = `${server.url}/api/v1/stations`;
  try {
    // Payload sizes. The API serves brotli 5 at once and swaps in brotli 11 when its background
    // pass is done (seconds): wait for that swap, the steady state, before measuring anything.
    const identity = await fetchRaw(endpoint, 'identity');
    const brFirst = await fetchRaw(endpoint, 'br');
    let brBytes = brFirst.bytes;
    const waitStartedMs = Date.now();
    while (
      brBytes === brFirst.bytes &&
      Date.now() - waitStartedMs < numberOption('best-wait-sec', 30) * 1000
    ) {
      await sleep(500);
      brBytes = (await fetchRaw(endpoint, 'br')).bytes;
    }
    const bestWaitSec = round((Date.now() - waitStartedMs) / 1000, 1);
    if (brBytes === brFirst.bytes)
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
            ? { firstResponseKB: round(brFirst.bytes / 1024, 1), waitedForBestSec: bestWaitSec }
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
      progress(`autocannon: ${connections} connections, ${durationSec} s, Accept-Encoding: ${encoding}`);
      const loadBefore = loadAvg();
      const serverCpu0 = server.cpuSec();
      const cannon = spawnMeasured(autocannonPath, [
        '-c',
        String(connections),
        '-d',
        String(durationSec),
        '-j',
        '-H',
        `accept-encoding=${encoding}`,
        endpoint,
      ]);
      const out = await cannon.done;
      const serverCpu1 = server.cpuSec();
      const serverCpu = serverCpu0 !== null && serverCpu1 !== null ? serverCpu1 - serverCpu0 : null;
      if (out.code !== 0)
        throw new Error(
          `autocannon exited with ${String(out.code ?? out.signal)}: ${out.stderr.slice(-2000)}`,
        );
      const r = JSON.parse(out.stdout.trim().split('\n').pop()!) as AutocannonResult;
      const detail = {
        mode,
        encoding,
        connections,
        durationSec,
        stations: server.stations,
        latencyMs: {
          p50: r.latency.p50,
          p90: r.latency.p90,
          p99: r.latency.p99,
          avg: r.latency.average,
          max: r.latency.max,
        },
        requests: r.requests.total,
        ok2xx: r['2xx'],
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        bytesPerSec: Math.round(r.throughput.average),
        serverCpuSec: serverCpu !== null ? round(serverCpu, 1) : null,
        loadGeneratorCpuSec: out.cpuSec !== null ? round(out.cpuSec, 1) : null,
      };
      if (r.errors > 0 || r.non2xx > 0 || r.timeouts > 0)
        progress(`warning: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts`);
      report({
        bench: BENCH,
        metric: `p99_latency_${encoding}`,
        value: r.latency.p99,
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
        value: round(r.requests.average),
        unit: 'req/s',
        goal: { op: '>=', value: 10_000 },
        loadBefore,
        wallSec: durationSec,
        ...(serverCpu !== null ? { cpuSec: serverCpu } : {}),
      });
      if (serverCpu !== null && r.requests.total > 0) {
        const msPerRequest = (1000 * serverCpu) / r.requests.total;
        report({
          bench: BENCH,
          metric: `server_cpu_per_request_${encoding}`,
          value: round(msPerRequest, 3),
          unit: 'ms',
          loadBefore,
          cpuSec: serverCpu,
          detail: { requests: r.requests.total, oneCoreCapacityReqPerSec: round(1000 / msPerRequest) },
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
    if (childCpu !== null) progress(`the dockwatch watch child used ${childCpu.toFixed(1)} CPU s in all`);
    cleanup();
  }
  printTable();
}

await main();
