/**
 * Crash safety of the watcher: a real `dockwatch watch` process polls a feed over HTTP and is
 * killed with SIGKILL at random moments, then restarted on the same database. What it stores must
 * equal what an uninterrupted watcher stores from the same documents.
 *
 * The store starts from a replay of ten days of history (so the detector judges and locks), then
 * the watcher sees the next documents, in which some stations are locked.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDocuments, Simulation } from '../../src/sim/index.js';
import { assertBuilt, runCli, startCli } from '../helpers/cli.js';
import { startSequenceFeed } from '../helpers/sequence-feed.js';
import { busiestFirst, writeSimArchive } from '../helpers/sim-archive.js';
import { dumpStore } from '../helpers/store-dump.js';

const SYSTEM = 'crashwatch';
const DAY_SEC = 86_400;
const STEP_SEC = 600;
const HISTORY_DAYS = 10;
const LIVE_DOCUMENTS = 36;
const POLL_SEC = 0.2;
const TRIALS = 2;

describe('watch survives kill -9', () => {
  let dir: string;
  let historyDb: string;
  let city: ConstructorParameters<typeof Simulation>[0];
  let liveDocs: object[];
  let informationDoc: object;
  let systemInformationDoc: object;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'dockwatch-watch-crash-'));
    // History starts at 08:00 in Paris so the live part covers a busy morning.
    const fromSec = Date.UTC(2026, 4, 4, 6) / 1000;
    const base = { seed: 'watch-crash', stations: { synthetic: { count: 60 } }, startSec: fromSec };
    const ids = busiestFirst(new Simulation(base).stations);
    const liveStartSec = fromSec + HISTORY_DAYS * DAY_SEC;
    city = {
      ...base,
      faults: ids.slice(0, 4).map((stationId) => ({
        kind: 'locked' as const,
        stationId,
        startSec: liveStartSec,
        durationSec: DAY_SEC,
      })),
    };
    systemInformationDoc = {
      last_updated: fromSec,
      ttl: 60,
      version: '2.3',
      data: { system_id: SYSTEM, name: SYSTEM, language: 'fr', timezone: 'Europe/Paris' },
    };
    await writeSimArchive(join(dir, 'history'), {
      ...city,
      system: SYSTEM,
      timeZone: 'Europe/Paris',
      fromSec,
      days: HISTORY_DAYS,
      stepSec: STEP_SEC,
    });
    historyDb = join(dir, 'history.sqlite');
    await runCli(['replay', join(dir, 'history'), '--database', historyDb, '--json']);
    // The same simulation, continued: the documents the live watcher will see.
    liveDocs = [];
    for (const d of generateDocuments({
      ...city,
      fromSec,
      toSec: liveStartSec + LIVE_DOCUMENTS * STEP_SEC,
      stepSec: STEP_SEC,
    })) {
      if (d.informationDoc) informationDoc = d.informationDoc;
      if (d.timeSec > liveStartSec) liveDocs.push(d.statusDoc);
    }
  }, 300_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a watcher over the whole sequence, killing it at the given moments (ms after each start). */
  async function watchAll(db: string, killAfterMs: number[]): Promise<number> {
    copyFileSync(historyDb, db);
    const feed = await startSequenceFeed({
      statusDocs: liveDocs,
      informationDoc,
      systemInformationDoc,
      servesPerDocument: 2,
    });
    const args = [
      'watch',
      '--feed',
      `${feed.url}/gbfs.json`,
      '--system',
      SYSTEM,
      '--database',
      db,
      '--port',
      '0',
    ];
    const flags = [
      '--poll-interval-sec',
      String(POLL_SEC),
      '--gap-sec',
      String(3 * STEP_SEC),
      '--timezone',
      'Europe/Paris',
    ];
    let kills = 0;
    try {
      for (const delayMs of [...killAfterMs, null]) {
        const { child, done } = startCli([...args, ...flags]);
        if (delayMs !== null) {
          await new Promise((r) => setTimeout(r, delayMs));
          child.kill('SIGKILL');
          if ((await done).signal === 'SIGKILL') kills++;
          continue;
        }
        const deadline = Date.now() + 120_000;
        while (!feed.done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        // One more poll interval so the last document is committed, then a clean stop.
        await new Promise((r) => setTimeout(r, 1500));
        child.kill('SIGTERM');
        const result = await done;
        if (result.code !== 0) throw new Error(`watch exited ${result.code}: ${result.stderr}`);
      }
      expect(feed.done()).toBe(true);
    } finally {
      await feed.close();
    }
    return kills;
  }

  let reference: Awaited<ReturnType<typeof dumpStore>>;
  let runMs = 0;

  it('an uninterrupted watcher detects the locks', async () => {
    const started = Date.now();
    await watchAll(join(dir, 'reference.sqlite'), []);
    runMs = Date.now() - started;
    reference = await dumpStore(join(dir, 'reference.sqlite'), SYSTEM);
    const liveFromSec = (liveDocs[0] as { last_updated: number }).last_updated;
    expect(reference.events.filter((e) => e.type === 'snapshot' && e.timeSec >= liveFromSec)).toHaveLength(
      LIVE_DOCUMENTS,
    );
    expect(
      reference.changes.filter((c) => c.to === 'locked' && c.timeSec >= liveFromSec).length,
    ).toBeGreaterThanOrEqual(2);
  }, 200_000);

  for (let trial = 1; trial <= TRIALS; trial++) {
    it(`trial ${trial}: killed twice at random moments, equal to the uninterrupted run`, async () => {
      const delays = [0, 1].map(() => Math.round(800 + Math.random() * runMs * 0.4));
      const db = join(dir, `trial-${trial}.sqlite`);
      const kills = await watchAll(db, delays);
      expect(kills).toBe(2);
      const after = await dumpStore(db, SYSTEM);
      expect(after.events, `killed after ${delays.join(', ')} ms`).toEqual(reference.events);
      expect(after.changes).toEqual(reference.changes);
      expect(after.activity).toEqual(reference.activity);
    }, 200_000);
  }
});
