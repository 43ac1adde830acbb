/**
 * End to end: the real watcher polls the real simulator over HTTP on localhost, with the API up.
 * An injected lock is detected, an injected outage locks nothing, malformed documents are counted
 * and survived.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/index.js';
import { metrics } from '../../src/metrics/index.js';
import { prefillFromSimulator } from '../../src/service/prefill.js';
import { WatchService } from '../../src/service/watch-service.js';
import { startSimulator, type SimulatorHandle } from '../../src/sim/index.js';
import { openSqliteStore, type Store, type StoredStateChange } from '../../src/storage/index.js';

const DAY_SEC = 86_400;
/** Simulated seconds per real second, and per poll. */
const SPEED = 1200;
const SYSTEM = 'e2e';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function rejectedCount(reason: string): Promise<number> {
  const values = (await metrics.rejected.get()).values;
  return values
    .filter((v) => v.labels['system'] === SYSTEM && v.labels['reason'] === reason)
    .reduce((a, v) => a + v.value, 0);
}

describe('watcher against the simulator over HTTP', () => {
  let dir: string;
  let store: Store;
  let sim: SimulatorHandle;
  let service: WatchService;
  let busiest: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockwatch-e2e-'));
    store = openSqliteStore({ path: join(dir, 'e2e.sqlite') });
    await store.migrate();
    const liveStartSec = Math.floor(Date.now() / 1000) - 5 * DAY_SEC;
    sim = await startSimulator({
      seed: 'e2e',
      stations: { synthetic: { count: 60 } },
      startSec: liveStartSec - 9 * DAY_SEC,
      speed: 0,
      timezone: 'Europe/Paris',
    });
    busiest = await prefillFromSimulator({
      sim,
      store,
      system: SYSTEM,
      timeZone: 'Europe/Paris',
      untilSec: liveStartSec,
      stepSec: 600,
    });
    service = new WatchService({
      store,
      system: SYSTEM,
      systemName: 'e2e',
      feedUrl: `${sim.url}/gbfs.json`,
      language: 'fr',
      timeZone: 'Europe/Paris',
      pollIntervalSec: 1,
      documentIntervalSec: SPEED,
      detector: 'seed',
      minHistoryDays: 7,
      retentionDays: 60,
      logger: silentLogger,
      http: { host: '127.0.0.1', port: 0, tileUrl: '' },
    });
  });

  afterAll(async () => {
    await service?.stop();
    await sim?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('detects an injected lock, survives malformed documents, and an outage locks nothing', async () => {
    const target = busiest[0]!;
    sim.injectFault({ kind: 'locked', stationId: target, startInSec: 0 });
    sim.injectFault({ kind: 'malformed', mode: 'garbage', requests: 2, startInSec: 0 });
    sim.setSpeed(SPEED);
    await service.start();

    // The lock: found from behaviour alone (the feed's flags stay OK), visible in the API.
    const lock = await waitFor(
      'the injected lock',
      async () =>
        (await store.listStateChanges({ system: SYSTEM, stationId: target, state: 'locked', limit: 1 }))[0],
      60_000,
    );
    expect(lock.from).toBe('ok');
    expect(lock.evidence?.observed).toBe(0);
    const res = await fetch(`${service.url}/api/v1/stations`);
    expect(res.status).toBe(200);
    // The list comes as columns (one array per property, src/api/station-table.ts).
    const body = (await res.json()) as { stations: { code: string[]; state: string[] } };
    const code = (await store.listStationInfo(SYSTEM)).find((s) => s.stationId === target)!.code;
    expect(body.stations.code).toContain(code);
    expect(body.stations.state[body.stations.code.indexOf(code)]).toBe('locked');

    // Malformed bodies were refused, counted, and polling went on.
    expect(await rejectedCount('not_json')).toBeGreaterThanOrEqual(1);

    // An outage of 3 simulated hours: the watcher is blind, nothing may be flagged because of it.
    const outageStartSec = sim.nowSec();
    sim.injectFault({ kind: 'outage', mode: 'http_503', startInSec: 0, durationSec: 3 * 3600 });
    const resumed = await waitFor(
      'documents after the outage',
      async () => {
        const h = await store.feedHealth(SYSTEM);
        return h && h.lastDocumentSec !== null && h.lastDocumentSec > outageStartSec + 3 * 3600 + 2 * SPEED
          ? h
          : undefined;
      },
      60_000,
    );
    expect(resumed.consecutiveFailures).toBe(0);
    const changes: StoredStateChange[] = await store.listStateChanges({
      system: SYSTEM,
      sinceSec: outageStartSec,
      limit: 1000,
    });
    const blamedOnOutage = changes.filter((c) => c.to === 'locked' && c.stationId !== target);
    expect(blamedOnOutage).toEqual([]);
    const gaps = (await store.log.read(0, 1_000_000)).filter((e) => e.type === 'feed_gap');
    expect(gaps.length).toBeGreaterThanOrEqual(1);
  }, 150_000);
});
