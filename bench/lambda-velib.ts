/**
 * The Lambda functions at Vélib' size, for the serverless cost model (docs/serverless.md): the
 * 1,495 real stations of ../shared/data/velib-2025-10 served by the simulator (Vélib' shape) and
 * polled by the fetch handler once per simulated minute, into the DynamoDB store on dynalite (in
 * a child process, so that its memory is not counted here). Then the API handler's cold start and
 * warm requests.
 *
 *   node --expose-gc --import tsx bench/lambda-velib.ts [--invocations 60] [--history-days 28]
 *
 * Per invocation: wall time, CPU time of this process (user + system: what a Lambda's CPU share
 * must supply), DynamoDB requests by operation, and RSS / heap. CPU time and request counts do not
 * depend much on the machine's load; wall time does (the load average is printed with it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createLogger } from '../src/log/index.js';
import { OBSERVED_STATION_ID, localClock } from '../src/activity/index.js';
import { DEFAULT_TILE_URL } from '../src/api/index.js';
import { createApiLambda, createFetchHandler, serverlessConfig } from '../src/serverless/index.js';
import { startSimulator } from '../src/sim/index.js';
import { countCommands, openDynamoStore } from '../src/storage/dynamodb/index.js';
import type { SlotCount } from '../src/storage/index.js';
import { httpApiEvent, lambdaContext, scheduledEvent } from '../test/serverless/aws-events.js';
import { loadAvg, numberOption, repoRoot, sharedDir } from './lib.js';

const invocations = numberOption('invocations', 60);
const historyDays = numberOption('history-days', 28);
const velibInfo = path.join(sharedDir, 'data/velib-2025-10/station_information.json');
if (!existsSync(velibInfo)) {
  console.error(`lambda-velib: skipped: ${velibInfo} is absent`);
  process.exit(0);
}
// 2025-10-14 07:00 Europe/Paris (a Tuesday morning).
const fromSec = 1_760_392_800 + 7 * 3600;
const SYSTEM = 'velib';
const MB = 1024 * 1024;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function startDynaliteProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/dynalite/cli.js'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--createTableMs',
      '0',
    ],
    { stdio: 'ignore' },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(endpoint, { method: 'POST' });
      return { endpoint, child };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('dynalite did not start');
}

interface Sample {
  wallMs: number;
  cpuMs: number;
  requests: number;
  byOp: Record<string, number>;
  /** Capacity units consumed, by operation (read units for reads, write units for writes). */
  units: Record<string, number>;
}

const gc = (globalThis as { gc?: () => void }).gc;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const { endpoint, child } = await startDynaliteProcess();
  const url = `dynamodb://bench?endpoint=${encodeURIComponent(endpoint)}&region=eu-west-3`;
  const store = openDynamoStore({ url });
  await store.migrate();
  const counter = countCommands(store.clients.client);
  const sim = await startSimulator({
    seed: 1,
    stations: { path: velibInfo },
    startSec: fromSec,
    speed: 0,
    timezone: 'Europe/Paris',
  });
  // The Vélib' shape serves the numeric ids, as the real feed does.
  const stationIds = sim.simulation.stations.map((s) => String(s.numericId));

  // Usual activity of the last weeks, as a running deployment would have it (synthetic counts).
  const clock = localClock('Europe/Paris');
  const today = clock.day(fromSec);
  let prefillSec = 0;
  if (historyDays > 0) {
    const t = performance.now();
    let seed = 7;
    const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let day = today - historyDays; day < today; day++) {
      const inc: SlotCount[] = [];
      for (let slot = 0; slot < 144; slot++) {
        inc.push({ stationId: OBSERVED_STATION_ID, day, slot, rented: 600, returned: 0 });
        for (const id of stationIds)
          if (rand() < 0.3) inc.push({ stationId: id, day, slot, rented: 1, returned: rand() < 0.5 ? 1 : 0 });
      }
      await store.commitActivity(SYSTEM, 'bench-prefill', 0, inc);
    }
    prefillSec = (performance.now() - t) / 1000;
  }
  gc?.();
  const baselineRss = process.memoryUsage().rss;

  const env = {
    DOCKWATCH_DATABASE: url,
    DOCKWATCH_FEED_URL: `${sim.url}/velib/gbfs.json`,
    DOCKWATCH_SYSTEM_ID: SYSTEM,
    DOCKWATCH_TIMEZONE: 'Europe/Paris',
    DOCKWATCH_LOG_LEVEL: 'warn',
  };
  const logger = createLogger({ level: 'warn', pretty: false });
  const container = () =>
    createFetchHandler({ config: serverlessConfig(env), logger, openStore: () => Promise.resolve(store) });

  const invoke = async (h: ReturnType<typeof container>): Promise<Sample & { documents: number }> => {
    counter.reset();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const s = await h(scheduledEvent(), lambdaContext('dockwatch-fetch', 1024));
    const c = process.cpuUsage(c0);
    const byOp = { ...counter.requests };
    const units = { ...counter.capacity };
    sim.advanceSec(60);
    return {
      wallMs: performance.now() - t0,
      cpuMs: (c.user + c.system) / 1000,
      requests: Object.values(byOp).reduce((a, b) => a + b, 0),
      byOp,
      units,
      documents: s.documents,
    };
  };

  const load0 = loadAvg();
  const h = container();
  const cold = await invoke(h);
  const warm: (Sample & { documents: number })[] = [];
  let peakRss = process.memoryUsage().rss;
  for (let i = 0; i < invocations; i++) {
    warm.push(await invoke(h));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const coldAgain = await invoke(container());
  const heapMb = process.memoryUsage().heapUsed / MB;
  const opsPerInvocation: Record<string, number> = {};
  for (const w of warm)
    for (const [op, n] of Object.entries(w.byOp))
      opsPerInvocation[op] = (opsPerInvocation[op] ?? 0) + n / warm.length;
  const unitsPerInvocation: Record<string, number> = {};
  for (const w of warm)
    for (const [op, n] of Object.entries(w.units))
      unitsPerInvocation[op] = (unitsPerInvocation[op] ?? 0) + n / warm.length;
  gc?.();
  const afterRss = process.memoryUsage().rss;

  // The API function: cold start (open, build, prime), then warm requests as CloudFront sends them.
  counter.reset();
  const a0 = performance.now();
  const ac0 = process.cpuUsage();
  const api = await createApiLambda({
    store,
    system: SYSTEM,
    timeZone: 'Europe/Paris',
    pollIntervalSec: 60,
    logger,
    tileUrl: DEFAULT_TILE_URL,
    language: 'fr',
  });
  const apiColdMs = performance.now() - a0;
  const apiColdCpu = process.cpuUsage(ac0);
  const apiColdRequests = Object.values(counter.requests).reduce((a, b) => a + b, 0);
  const apiWarm: { wallMs: number; bytes: number }[] = [];
  const code = sim.simulation.stations[0]!.code;
  for (let i = 0; i < 20; i++) {
    for (const p of ['/api/v1/stations', `/api/v1/stations/${code}`, '/api/v1/state-changes?limit=50']) {
      const t = performance.now();
      const res = await api.handler(
        httpApiEvent(p, { headers: { 'accept-encoding': 'br, gzip' } }),
        lambdaContext('dockwatch-api'),
      );
      apiWarm.push({ wallMs: performance.now() - t, bytes: (res.body ?? '').length });
    }
  }
  const apiRss = process.memoryUsage().rss;
  await api.app.close();

  const out = {
    load: { before: load0, after: loadAvg() },
    stations: stationIds.length,
    historyDays,
    prefillSec: r1(prefillSec),
    fetch: {
      cold: { wallMs: r1(cold.wallMs), cpuMs: r1(cold.cpuMs), requests: cold.requests, byOp: cold.byOp },
      coldWithHistory: {
        wallMs: r1(coldAgain.wallMs),
        cpuMs: r1(coldAgain.cpuMs),
        requests: coldAgain.requests,
        byOp: coldAgain.byOp,
      },
      warm: {
        invocations: warm.length,
        documents: warm.reduce((a, w) => a + w.documents, 0),
        wallMs: {
          median: r1(
            pct(
              warm.map((w) => w.wallMs),
              0.5,
            ),
          ),
          p90: r1(
            pct(
              warm.map((w) => w.wallMs),
              0.9,
            ),
          ),
        },
        cpuMs: {
          median: r1(
            pct(
              warm.map((w) => w.cpuMs),
              0.5,
            ),
          ),
          p90: r1(
            pct(
              warm.map((w) => w.cpuMs),
              0.9,
            ),
          ),
        },
        requestsPerInvocation: Object.fromEntries(
          Object.entries(opsPerInvocation).map(([k, v]) => [k, r1(v)]),
        ),
        unitsPerInvocation: Object.fromEntries(
          Object.entries(unitsPerInvocation).map(([k, v]) => [k, r1(v)]),
        ),
      },
      coldUnits: cold.units,
      coldWithHistoryUnits: coldAgain.units,
      rssMb: {
        beforeFirstInvocation: r1(baselineRss / MB),
        peak: r1(peakRss / MB),
        afterGc: r1(afterRss / MB),
      },
      heapUsedMb: r1(heapMb),
    },
    api: {
      cold: {
        wallMs: r1(apiColdMs),
        cpuMs: r1((apiColdCpu.user + apiColdCpu.system) / 1000),
        requests: apiColdRequests,
      },
      warm: {
        requests: apiWarm.length,
        wallMs: {
          median: r1(
            pct(
              apiWarm.map((w) => w.wallMs),
              0.5,
            ),
          ),
          p90: r1(
            pct(
              apiWarm.map((w) => w.wallMs),
              0.9,
            ),
          ),
        },
      },
      rssMb: r1(apiRss / MB),
    },
  };
  console.log(JSON.stringify(out, null, 2));
  await sim.close();
  child.kill();
}

await main();
