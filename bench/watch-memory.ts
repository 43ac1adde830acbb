/**
 * Peak RSS of `dockwatch watch` on a Vélib'-sized feed for one hour of simulated time (issue 3;
 * goal ≤ 120 MB). The simulator (in this process) serves the real Vélib' station list
 * (../shared/data/velib-2025-10, 1,495 stations; a synthetic city of 1,500 when absent) in the
 * Vélib' dialect, accelerated; a real `dockwatch watch` child polls it every second, so each poll
 * is one simulated minute, Vélib's own cadence. Its database is first pre-filled with `--prefill-days`
 * of the simulator's past (10-min steps), so the detector judges stations as in a running service,
 * and the API is read every few seconds as an open web page would. The pre-fill runs the detector
 * the watcher runs (`--detector`, default: the CLI's default): with another one the watcher would
 * first re-read the whole log for its own detector, a restart after a change of detector, not the
 * steady service this measures.
 *
 * The peak is the watcher's own VmHWM (bench/rusage-preload.js), never this process's memory.
 *
 *   npx tsx bench/watch-memory.ts [--sim-hours 1] [--speed 60] [--prefill-days 8] [--api-every-sec 5]
 *                                 [--detector poisson] [--node-args "--max-semi-space-size=2"] [--no-launcher] [--keep]
 *
 * The watcher is started through bin/dockwatch, as `dockwatch` and `npm start` start it (glibc
 * allocator options); --no-launcher runs `node dist/cli/main.js` directly, for comparison.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { configSchema } from '../src/config/index.js';
import { prefillFromSimulator } from '../src/service/prefill.js';
import { startSimulator, type StationSource } from '../src/sim/index.js';
import { openSqliteStore } from '../src/storage/index.js';
import {
  MB,
  assertBuilt,
  cliPath,
  fileBytes,
  loadAvg,
  makeTmpDir,
  nodeArgsOption,
  viaLauncherOption,
  numberOption,
  option,
  printTable,
  progress,
  report,
  reportSkipped,
  round,
  sharedDir,
  sleep,
  spawnMeasured,
} from './lib.js';

const BENCH = 'watch-memory';
const SYSTEM = 'velib';
const TIME_ZONE = 'Europe/Paris';
const POLL_SEC = 1;

async function main(): Promise<void> {
  const notBuilt = assertBuilt();
  if (notBuilt) return reportSkipped(BENCH, notBuilt);
  const simHours = numberOption('sim-hours', 1);
  const speed = numberOption('speed', 60);
  const prefillDays = numberOption('prefill-days', 8);
  const apiEverySec = numberOption('api-every-sec', 5);
  const detector = option('detector') ?? configSchema.shape.detector.parse(undefined);
  const velibDir = path.join(sharedDir, 'data/velib-2025-10');
  const stations: StationSource = existsSync(path.join(velibDir, 'station_information.json'))
    ? { path: velibDir }
    : { synthetic: { count: 1500 } };
  if ('synthetic' in stations) progress(`${velibDir} is absent: a synthetic city of 1,500 stations instead`);

  const { dir, cleanup } = makeTmpDir('watch');
  const database = path.join(dir, 'watch.sqlite');
  // The watcher refuses documents from the future: the accelerated hour ends at the real "now".
  const liveStartSec = Math.floor(Date.now() / 1000) - Math.ceil(simHours * 3600) - 120;
  const sim = await startSimulator({
    seed: 'bench',
    stations,
    startSec: liveStartSec - prefillDays * 86_400,
    speed: 0,
    timezone: TIME_ZONE,
  });
  try {
    const stationCount = sim.simulation.stations.length;
    if (prefillDays > 0) {
      progress(`pre-filling ${prefillDays} days of ${stationCount} stations (10-min steps)`);
      const store = openSqliteStore({ path: database });
      await store.migrate();
      await prefillFromSimulator({
        sim,
        store,
        system: SYSTEM,
        timeZone: TIME_ZONE,
        untilSec: liveStartSec,
        stepSec: 600,
        detector,
      });
      await store.close();
    } else {
      sim.advanceSec(liveStartSec - sim.nowSec());
    }
    const prefillBytes = fileBytes(database) + fileBytes(database + '-wal');

    const realSec = (simHours * 3600) / speed;
    progress(
      `dockwatch watch: ${simHours} simulated h at ×${speed} (${realSec.toFixed(0)} s), ${stationCount} stations`,
    );
    const api: { url: string | null } = { url: null };
    sim.setSpeed(speed);
    const loadBefore = loadAvg();
    const measured = spawnMeasured(
      cliPath,
      [
        'watch',
        '--feed',
        `${sim.url}/velib/gbfs.json`,
        '--system',
        SYSTEM,
        '--timezone',
        TIME_ZONE,
        '--database',
        database,
        '--poll-interval-sec',
        String(POLL_SEC),
        // Blind after 3 missed polls, in document time (one poll = `speed` simulated seconds).
        '--gap-sec',
        String(3 * POLL_SEC * speed),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--tile-url',
        '',
        '--detector',
        detector,
      ],
      {
        env: { DOCKWATCH_LOG_LEVEL: 'info' },
        nodeArgs: nodeArgsOption(),
        viaLauncher: viaLauncherOption(),
        onLine: (line) => {
          if (api.url !== null || !line.includes('"url"')) return;
          try {
            const { url, msg } = JSON.parse(line) as { url?: unknown; msg?: unknown };
            // The service logs "web app and API at <url>" once listening.
            if (typeof url === 'string' && typeof msg === 'string' && msg.startsWith('web app and API'))
              api.url = url;
          } catch {
            // Not a JSON log line.
          }
        },
      },
    );
    const startedMs = Date.now();
    let apiCalls = 0;
    let apiFailures = 0;
    let nextApiMs = startedMs + apiEverySec * 1000;
    let rssLog: { sec: number; rssMB: number }[] = [];
    while (Date.now() - startedMs < realSec * 1000 && measured.child.exitCode === null) {
      await sleep(250);
      const sec = Math.floor((Date.now() - startedMs) / 1000);
      if (rssLog.length === 0 || rssLog[rssLog.length - 1]!.sec + 10 <= sec)
        rssLog.push({ sec, rssMB: round(measured.currentRssBytes() / MB, 1) });
      if (apiEverySec > 0 && api.url !== null && Date.now() >= nextApiMs) {
        nextApiMs += apiEverySec * 1000;
        apiCalls++;
        try {
          const res = await fetch(`${api.url}/api/v1/stations`, { headers: { 'accept-encoding': 'br' } });
          await res.arrayBuffer();
          if (!res.ok) apiFailures++;
        } catch {
          apiFailures++;
        }
      }
    }
    const rssBeforeStopBytes = measured.currentRssBytes();
    measured.child.kill('SIGTERM');
    const out = await measured.done;
    rssLog = rssLog.slice(-30);
    if (out.code !== 0)
      throw new Error(
        `dockwatch watch exited with ${String(out.code ?? out.signal)}: ${out.stderr.slice(-2000)}`,
      );
    if (api.url === null) throw new Error('dockwatch watch never said where its API listens');

    // What the watcher did in the hour: the documents it took (snapshot events after the prefill).
    const store = openSqliteStore({ path: database });
    const health = await store.feedHealth(SYSTEM);
    let documents = 0;
    for (let from = 0; ;) {
      const batch = await store.log.read(from, 50_000);
      if (batch.length === 0) break;
      for (const e of batch) if (e.type === 'snapshot' && e.timeSec > liveStartSec) documents++;
      from = batch[batch.length - 1]!.offset;
    }
    await store.close();
    const expected = Math.floor((simHours * 3600) / (POLL_SEC * speed));
    if (documents < expected / 2)
      progress(
        `warning: the watcher took ${documents} documents, about ${expected} were expected (the machine may be overloaded)`,
      );

    report({
      bench: BENCH,
      metric: 'watch_peak_rss',
      value: round(out.peakRssBytes / MB, 1),
      unit: 'MB',
      goal: { op: '<=', value: 120 },
      loadBefore,
      wallSec: out.wallSec,
      ...(out.cpuSec !== null ? { cpuSec: out.cpuSec } : {}),
      detail: {
        source: out.peakRssSource,
        ruMaxRssMB: out.ruMaxRssBytes === null ? null : round(out.ruMaxRssBytes / MB, 1),
        detector,
        nodeArgs: nodeArgsOption(),
        launcher: viaLauncherOption(),
        memoryAtPeakMB: out.memory?.atPeakMB ?? null,
        memoryMaximaMB: out.memory?.maximaMB ?? null,
        stations: stationCount,
        simulatedHours: simHours,
        speed,
        prefillDays,
        documents,
        expectedDocuments: expected,
        lastDocumentSec: health?.lastDocumentSec ?? null,
        rssBeforeStopMB: round(rssBeforeStopBytes / MB, 1),
        apiCalls,
        apiFailures,
        prefillDatabaseMB: round(prefillBytes / MB, 1),
        rssEvery10s: rssLog,
      },
    });
    printTable();
  } finally {
    await sim.close();
    cleanup();
  }
}

await main();
