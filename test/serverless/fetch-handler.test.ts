/**
 * The scheduled fetch function, invoked with real-shaped EventBridge events: against the
 * project's simulator over HTTP (lock found, malformed documents and an outage survived), and
 * against a fixed sequence of documents served in turn by two "containers" whose warm state goes
 * stale (the second must notice and rebuild from the store: same log as one container alone).
 *
 * Should the lock test ever find no lock, it prints the target's history of state changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '../../src/metrics/index.js';
import { prefillFromSimulator } from '../../src/service/prefill.js';
import { generateDocuments, startSimulator, type SimulatorHandle } from '../../src/sim/index.js';
import { openStore, type Store, type StoredStateChange } from '../../src/storage/index.js';
import { startSequenceFeed } from '../helpers/sequence-feed.js';
import { dynamoUrl, startDynalite, type LocalDynamo } from '../storage/dynamodb-fixture.js';
import { lambdaContext, scheduledEvent } from './aws-events.js';
import { fetchContainer, tempDir, type TempDir } from './fixture.js';

const DAY_SEC = 86_400;
/** Detected states that say a station does not work (in full or for one direction). */
const NOT_WORKING: string[] = ['locked', 'return_blocked', 'rent_blocked'];
/** Simulated seconds between two invocations (the real function runs every 60 s of wall time). */
const STEP_SEC = 1200;
const SYSTEM = 'sim-lambda';

/** Where the function's store lives: a SQLite file, or a DynamoDB table (dynalite) as in AWS. */
interface Backend {
  name: string;
  start(dir: TempDir): Promise<void>;
  url(name: string): string;
  stop(): Promise<void>;
}

function sqliteBackend(): Backend {
  let dir: TempDir;
  return {
    name: 'SQLite',
    start: (d) => {
      dir = d;
      return Promise.resolve();
    },
    url: (name) => dir.file(`${name}.sqlite`),
    stop: () => Promise.resolve(),
  };
}

function dynamoBackend(): Backend {
  let dynamo: LocalDynamo | null = null;
  return {
    name: 'DynamoDB (dynalite)',
    start: async () => void (dynamo = await startDynalite()),
    url: (name) => dynamoUrl(dynamo!.endpoint, name),
    stop: async () => dynamo?.close(),
  };
}

for (const backend of [sqliteBackend(), dynamoBackend()]) {
  describe(`fetch function against the simulator over HTTP, ${backend.name}`, () => {
    let dir: TempDir;
    let sim: SimulatorHandle;
    let busiest: string[];
    let env: Record<string, string>;
    const stores: Store[] = [];

    // Locks raised by the pre-fill's detector (seed, on the simulated history) are not this test's.
    let liveStartSec = 0;

    beforeAll(async () => {
      dir = tempDir('dockwatch-lambda-sim-');
      await backend.start(dir);
      liveStartSec = Math.floor(Date.now() / 1000) - 5 * DAY_SEC;
      sim = await startSimulator({
        seed: 'lambda',
        stations: { synthetic: { count: 60 } },
        startSec: liveStartSec - 9 * DAY_SEC,
        speed: 0,
        timezone: 'Europe/Paris',
      });
      const store = await openStore(backend.url('sim'));
      busiest = await prefillFromSimulator({
        sim,
        store,
        system: SYSTEM,
        timeZone: 'Europe/Paris',
        untilSec: liveStartSec,
        stepSec: 600,
      });
      await store.close();
      env = {
        DOCKWATCH_DATABASE: backend.url('sim'),
        DOCKWATCH_FEED_URL: `${sim.url}/gbfs.json`,
        DOCKWATCH_SYSTEM_ID: SYSTEM,
        DOCKWATCH_GAP_SEC: String(3 * STEP_SEC),
        DOCKWATCH_LOG_LEVEL: 'silent',
      };
    }, 120_000);

    afterAll(async () => {
      for (const s of stores) await s.close();
      await sim?.close();
      await backend.stop();
      dir?.remove();
    });

    it('finds an injected lock, refuses malformed documents, and is not fooled by an outage', async () => {
      const handler = fetchContainer(env, { stores });
      const invoke = async () => {
        const summary = await handler(scheduledEvent(), lambdaContext());
        sim.advanceSec(STEP_SEC);
        return summary;
      };
      const target = busiest[0]!;
      sim.injectFault({ kind: 'locked', stationId: target, startInSec: 0 });
      sim.injectFault({ kind: 'malformed', mode: 'garbage', requests: 2, startInSec: 0 });

      const first = await invoke();
      const rejected: Record<string, number> = { ...first.rejected };
      let documents = first.documents;
      // The lock must be found as a station that does not work. Usually `locked`; but a station
      // that happens to be empty (or full) when it locks shows only missing returns (or rentals),
      // and the detector can then rightly say no more than `return_blocked` (`rent_blocked`).
      let found: StoredStateChange | null = null;
      for (let i = 0; i < 120 && found === null; i++) {
        const s = await invoke();
        documents += s.documents;
        for (const [k, v] of Object.entries(s.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
        expect(s.storeErrors).toBe(0);
        const changes = await stores[0]!.listStateChanges({
          system: SYSTEM,
          stationId: target,
          sinceSec: liveStartSec,
          limit: 20,
        });
        found = changes.find((c) => NOT_WORKING.includes(c.to)) ?? null;
      }
      const now = (await stores[0]!.listStationStatus(SYSTEM)).find((st) => st.stationId === target)!;
      if (found === null) {
        // Say why, so that a failure explains itself: the target's counts and whole history.
        const history = await stores[0]!.listStateChanges({ system: SYSTEM, stationId: target, limit: 50 });
        console.error(
          `no lock of ${target} since ${liveStartSec} (now ${sim.nowSec()}), counts ${JSON.stringify(now)}:`,
          JSON.stringify(history.map((c) => ({ t: c.timeSec, from: c.from, to: c.to, d: c.detector }))),
        );
      }
      expect(found).not.toBeNull();
      const bikes = now.bikes.mechanical + now.bikes.electric + now.bikes.other;
      if (found!.to === 'return_blocked') expect(bikes).toBe(0);
      if (found!.to === 'rent_blocked') expect(now.docksAvailable).toBe(0);
      // Bad input refused, counted, and the following documents accepted.
      expect(rejected['not_json']).toBeGreaterThanOrEqual(1);
      expect(documents).toBeGreaterThan(3);
      const store = stores[0]!;
      const health = (await store.feedHealth(SYSTEM))!;
      expect(health.rejected['not_json']).toBeGreaterThanOrEqual(1);
      // The time zone came from system_information (not configured).
      expect((await store.listSystems()).find((s) => s.id === SYSTEM)?.timezone).toBe('Europe/Paris');

      // Three hours of HTTP 503: invocations resolve, the failures show in the feed health.
      const outageStartSec = sim.nowSec();
      sim.injectFault({ kind: 'outage', mode: 'http_503', startInSec: 0, durationSec: 3 * 3600 });
      let failures = 0;
      for (let t = 0; t < 3 * 3600; t += STEP_SEC)
        failures = Math.max(failures, (await invoke()).health.consecutiveFailures);
      expect(failures).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < 3; i++) await invoke();
      const after = (await store.feedHealth(SYSTEM))!;
      expect(after.consecutiveFailures).toBe(0);
      expect(after.lastDocumentSec).toBeGreaterThan(outageStartSec + 3 * 3600);
      const gaps = (await store.log.read(0, 10_000_000)).filter((e) => e.type === 'feed_gap');
      expect(gaps.length).toBeGreaterThanOrEqual(1);
      const changes = await store.listStateChanges({ system: SYSTEM, sinceSec: outageStartSec, limit: 1000 });
      expect(changes.filter((c) => c.to === 'locked' && c.stationId !== target)).toEqual([]);
    }, 180_000);

    it('an unchanged feed: the warm container revalidates (304) and writes nothing', async () => {
      const handler = fetchContainer(env, { stores });
      sim.advanceSec(STEP_SEC);
      const first = await handler(scheduledEvent(), lambdaContext());
      expect(first.documents).toBe(1);
      const store = stores[stores.length - 1]!;
      const notModified = async (): Promise<number> =>
        (await metrics.polls.get()).values
          .filter((v) => v.labels['system'] === SYSTEM && v.labels['feed'] === 'station_status')
          .filter((v) => v.labels['outcome'] === 'not_modified')
          .reduce((a, v) => a + v.value, 0);
      const before = await notModified();
      const lastOffset = await store.log.lastOffset();
      const again = await handler(scheduledEvent(), lambdaContext());
      expect(again.documents).toBe(0);
      expect(again.rejected).toEqual({});
      expect(again.opened).toBe(false);
      expect(await notModified()).toBe(before + 1);
      expect(await store.log.lastOffset()).toBe(lastOffset);
    });
  });

  describe(`fetch function: warm containers that go stale, ${backend.name}`, () => {
    let dir: TempDir;
    let statusDocs: object[];
    let informationDoc: object;
    let systemInformationDoc: object;

    beforeAll(async () => {
      dir = tempDir('dockwatch-lambda-seq-');
      await backend.start(dir);
      const fromSec = Math.floor(Date.now() / 1000) - 2 * DAY_SEC;
      const city = {
        seed: 'stale',
        stations: { synthetic: { count: 40 } },
        timezone: 'Europe/Paris',
      } as const;
      statusDocs = [];
      for (const d of generateDocuments({ ...city, fromSec, toSec: fromSec + 40 * 300, stepSec: 300 })) {
        if (d.informationDoc) informationDoc = d.informationDoc;
        statusDocs.push(d.statusDoc);
      }
      systemInformationDoc = {
        last_updated: fromSec,
        ttl: 3600,
        version: '2.3',
        data: { system_id: 'stale', language: 'fr', name: 'Stale', timezone: 'Europe/Paris' },
      };
    });
    afterAll(async () => {
      await backend.stop();
      dir?.remove();
    });

    /** Serves the sequence once; `pick(i)` chooses the container of invocation i. Returns the log. */
    async function run(db: string, containers: number, pick: (i: number) => number) {
      const feed = await startSequenceFeed({
        statusDocs,
        informationDoc,
        systemInformationDoc,
        servesPerDocument: 1,
      });
      const stores: Store[] = [];
      const env = {
        DOCKWATCH_DATABASE: db,
        DOCKWATCH_FEED_URL: `${feed.url}/gbfs.json`,
        DOCKWATCH_SYSTEM_ID: 'stale',
        DOCKWATCH_GAP_SEC: '900',
        DOCKWATCH_MIN_HISTORY_DAYS: '0',
      };
      const handlers = Array.from({ length: containers }, () => fetchContainer(env, { stores }));
      let reopened = 0;
      try {
        for (let i = 0; i < statusDocs.length; i++) {
          const s = await handlers[pick(i)]!(scheduledEvent(), lambdaContext());
          expect(s.storeErrors).toBe(0);
          if (s.opened) reopened++;
        }
      } finally {
        for (const s of stores) await s.close();
        await feed.close();
      }
      const store = await openStore(db);
      try {
        const events = (await store.log.read(0, 1_000_000)).map(({ offset: _o, ...e }) => e);
        const states = await store.listDetectedStates('stale');
        return { events, states, reopened };
      } finally {
        await store.close();
      }
    }

    it('a container that missed invocations rebuilds from the store: same log as one container', async () => {
      const one = await run(backend.url('one'), 1, () => 0);
      // Container A, then B for a while, then A again (its memory is 10 documents behind)…
      const pick = (i: number): number => (Math.floor(i / 10) % 2 === 0 ? 0 : 1);
      const two = await run(backend.url('two'), 2, pick);
      let switches = 0;
      for (let i = 1; i < statusDocs.length; i++) if (pick(i) !== pick(i - 1)) switches++;
      expect(one.events.length).toBeGreaterThan(statusDocs.length);
      expect(one.reopened).toBe(1);
      // Each switch finds the log moved on (the first container's first open included).
      expect(two.reopened).toBe(1 + switches);
      expect(two.events).toEqual(one.events);
      expect(two.states).toEqual(one.states);
    }, 120_000);
  });
}
