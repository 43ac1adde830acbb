import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { createLogger } from '../log/index.js';
import { enableDefaultMetrics } from '../metrics/index.js';
import { WatchService } from '../service/watch-service.js';
import { startSimulator } from '../sim/index.js';
import { prefillFromSimulator } from '../service/prefill.js';
import { onShutdown, openConfiguredStore, webRoot } from './watch.js';

const DAY_SEC = 86_400;
/** Simulated seconds per real second: one simulated minute per poll. */
const SPEED = 60;
const HISTORY_DAYS = 15;
const HISTORY_STEP_SEC = 300;
const TIME_ZONE = 'Europe/Paris';
const SYSTEM = 'demo';

/**
 * Offline demo: a synthetic city served by the simulator, two weeks of history pre-filled through
 * the pipeline in seconds, then the real watcher polling the simulator every second (one simulated
 * minute) while three busy stations are locked — detected within a few minutes of real time.
 * The simulated clock starts two days behind the real one so that no document looks "from the
 * future" for the first 48 minutes of the demo.
 */
export async function runDemo(opts: Record<string, string | undefined>): Promise<void> {
  const logger = createLogger({ level: opts['logLevel'] ?? 'info' });
  enableDefaultMetrics();
  const database = opts['database'] ?? './data/demo.sqlite';
  mkdirSync(dirname(database), { recursive: true });
  if (opts['database'] === undefined)
    for (const s of ['', '-wal', '-shm']) rmSync(database + s, { force: true });
  const store = await openConfiguredStore(database, logger);

  const liveStartSec = Math.floor(Date.now() / 1000) - 2 * DAY_SEC;
  const sim = await startSimulator({
    seed: 'demo',
    startSec: liveStartSec - HISTORY_DAYS * DAY_SEC,
    speed: 0,
    timezone: TIME_ZONE,
  });
  logger.info(`simulator at ${sim.url}; pre-filling ${HISTORY_DAYS} days of history…`);
  const busiest = await prefillFromSimulator({
    sim,
    store,
    system: SYSTEM,
    timeZone: TIME_ZONE,
    untilSec: liveStartSec,
    stepSec: HISTORY_STEP_SEC,
  });

  const kinds = ['locked', 'rent_only_lock', 'return_only_lock'] as const;
  busiest.slice(1, 1 + kinds.length).forEach((stationId, i) => {
    sim.injectFault({ kind: kinds[i]!, stationId, startInSec: 0 });
    logger.info({ station: stationId, fault: kinds[i] }, 'demo fault injected');
  });
  sim.setSpeed(SPEED);

  const port = opts['port'] ?? '8080';
  const service = new WatchService({
    store,
    system: SYSTEM,
    systemName: 'Démo (ville simulée)',
    feedUrl: `${sim.url}/gbfs.json`,
    language: 'fr',
    timeZone: TIME_ZONE,
    pollIntervalSec: 1,
    documentIntervalSec: SPEED,
    detector: 'seed',
    minHistoryDays: 7,
    retentionDays: 60,
    logger,
    // No network in a demo: markers on a plain background.
    http: {
      host: opts['host'] ?? '127.0.0.1',
      port: Number(port),
      tileUrl: '',
      ...(webRoot() ? { webRoot: webRoot()! } : {}),
    },
  });
  onShutdown(async () => {
    await service.stop();
    await sim.close();
    await store.close();
  }, logger);
  await service.start();
  logger.info(`demo running: open ${service.url ?? ''} — locked stations show up within a few minutes`);
}
