/**
 * A real store filled through the real pipeline: the simulator's synthetic city, nine days of
 * history pre-filled, then one busy station locked in the simulator and the pipeline fed poll by
 * poll (as the watcher would) until the detector flags it. The API server runs on 127.0.0.1 over
 * the same store and LiveBus, so every test reads what a client would.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createApiServer, createLiveBus, type LiveBus } from '../../src/api/index.js';
import { parseStationStatus } from '../../src/feed/parse/index.js';
import { silentLogger } from '../../src/log/index.js';
import { Pipeline } from '../../src/pipeline/index.js';
import type { PublishOptions } from '../../src/publish/index.js';
import { prefillFromSimulator } from '../../src/service/prefill.js';
import { startSimulator, type SimulatorHandle } from '../../src/sim/index.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const schemaRoot = path.resolve(repoRoot, '../shared/gbfs-json-schema');
export const hasSchemas = existsSync(path.join(schemaRoot, 'v2.3/station_status.json'));

export const SYSTEM = 'publish';
export const TIMEZONE = 'Europe/Paris';
export const POLL_SEC = 600;
const DAY_SEC = 86_400;

export interface World {
  dir: string;
  store: Store;
  sim: SimulatorHandle;
  live: LiveBus;
  pipeline: Pipeline;
  /** Station ids, busiest first. */
  busiest: string[];
  /** Simulated time of the last document ingested. */
  lastDocSec: number;
  /** Feeds the pipeline one more poll; returns the document time. */
  poll(): Promise<number>;
  /** An API server over the store (closed by `close`). */
  server(publish?: PublishOptions): Promise<{ app: FastifyInstance; url: string }>;
  close(): Promise<void>;
}

export async function buildWorld(opts: { historyDays?: number; stations?: number } = {}): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-publish-'));
  const store = openSqliteStore({ path: path.join(dir, 'publish.sqlite') });
  await store.migrate();
  // Two days in the past: no document looks "from the future" to anything that checks the clock.
  const liveStartSec = Math.floor(Date.now() / 1000 / POLL_SEC) * POLL_SEC - 2 * DAY_SEC;
  const sim = await startSimulator({
    seed: 'publish',
    stations: { synthetic: { count: opts.stations ?? 30 } },
    startSec: liveStartSec - (opts.historyDays ?? 9) * DAY_SEC,
    speed: 0,
    timezone: TIMEZONE,
  });
  const busiest = await prefillFromSimulator({
    sim,
    store,
    system: SYSTEM,
    timeZone: TIMEZONE,
    untilSec: liveStartSec,
    stepSec: POLL_SEC,
  });
  const live = createLiveBus();
  const pipeline = await Pipeline.open({
    store,
    system: SYSTEM,
    timeZone: TIMEZONE,
    detector: 'seed',
    minHistoryDays: 7,
    gapThresholdSec: 3 * POLL_SEC,
    listener: live,
  });
  const apps: FastifyInstance[] = [];
  const world: World = {
    dir,
    store,
    sim,
    live,
    pipeline,
    busiest,
    lastDocSec: liveStartSec,
    async poll() {
      sim.advanceSec(POLL_SEC);
      sim.simulation.advanceTo(sim.nowSec());
      const parsed = parseStationStatus(sim.simulation.document('gbfs', 'station_status'));
      if (!parsed.ok) throw new Error(`simulator document refused: ${parsed.rejection.message}`);
      await pipeline.ingestStatus(parsed.doc);
      world.lastDocSec = parsed.doc.lastUpdatedSec;
      return parsed.doc.lastUpdatedSec;
    },
    async server(publish) {
      const app = await createApiServer({
        store,
        systemId: SYSTEM,
        timezone: TIMEZONE,
        pollIntervalSec: POLL_SEC,
        live,
        logger: silentLogger,
        tileUrl: '',
        ...(publish ? { publish } : {}),
      });
      apps.push(app);
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      return { app, url };
    },
    async close() {
      await Promise.all(apps.map((a) => a.close()));
      await pipeline.flush();
      await sim.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Polls until the detector has put `stationId` in `state` (at most `maxPolls`); returns the polls it took. */
export async function pollUntilState(
  world: World,
  stationId: string,
  state: string,
  maxPolls: number,
): Promise<number> {
  for (let i = 1; i <= maxPolls; i++) {
    await world.poll();
    const rows = await world.store.listDetectedStates(SYSTEM);
    if (rows.find((r) => r.stationId === stationId)?.state === state) return i;
  }
  throw new Error(`${stationId} not ${state} after ${maxPolls} polls`);
}
