/**
 * Crash safety of the replay: kill -9 a real `dockwatch replay` process at random moments, start
 * it again on the same database, and compare everything it stored with an uninterrupted run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, startCli } from '../helpers/cli.js';
import { busiestFirst, writeSimArchive } from '../helpers/sim-archive.js';
import { Simulation } from '../../src/sim/index.js';
import { dumpStore } from '../helpers/store-dump.js';

const SYSTEM = 'crashsim';
const TRIALS = 3;
const DAY_SEC = 86_400;

describe('replay survives kill -9', () => {
  let dir: string;
  let archive: string;
  let referenceMs = 0;
  let reference: Awaited<ReturnType<typeof dumpStore>>;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'dockwatch-crash-'));
    archive = join(dir, 'archive');
    const fromSec = Date.UTC(2026, 2, 2) / 1000;
    const city = { seed: 'crash', stations: { synthetic: { count: 80 } }, startSec: fromSec };
    const ids = busiestFirst(new Simulation(city).stations);
    // Locks late enough for the detector to have learnt, and an outage: the run has real work to redo.
    const faults = [
      ...ids.slice(0, 6).map((stationId, i) => ({
        kind: 'locked' as const,
        stationId,
        startInSec: (9 + i / 4) * DAY_SEC,
        durationSec: 12 * 3600,
      })),
      { kind: 'outage' as const, startInSec: 10.5 * DAY_SEC, durationSec: 3 * 3600 },
    ];
    await writeSimArchive(archive, {
      ...city,
      system: SYSTEM,
      timeZone: 'Europe/Paris',
      fromSec,
      days: 12,
      stepSec: 600,
      faults,
    });
    const started = Date.now();
    await runCli(['replay', archive, '--database', join(dir, 'reference.sqlite'), '--json']);
    referenceMs = Date.now() - started;
    reference = await dumpStore(join(dir, 'reference.sqlite'), SYSTEM);
  }, 300_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the reference run detected something to compare', () => {
    expect(reference.events.length).toBeGreaterThan(10_000);
    expect(reference.changes.filter((c) => c.to === 'locked').length).toBeGreaterThanOrEqual(3);
    expect(reference.events.some((e) => e.type === 'feed_gap')).toBe(true);
  });

  for (let trial = 1; trial <= TRIALS; trial++) {
    it(`trial ${trial}: killed at a random moment, restarted, equal to the uninterrupted run`, async () => {
      const db = join(dir, `trial-${trial}.sqlite`);
      const kills: number[] = [];
      // Two kills per trial, each at a random moment inside the run (Node start-up included).
      for (let k = 0; k < 2; k++) {
        const delayMs = Math.round(300 + Math.random() * referenceMs * 0.9);
        const { child, done } = startCli(['replay', archive, '--database', db, '--json']);
        const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        const result = await done;
        clearTimeout(timer);
        kills.push(result.signal === 'SIGKILL' ? delayMs : -1);
      }
      const finished = await runCli(['replay', archive, '--database', db, '--json']);
      const summary = JSON.parse(finished.stdout) as { documents: number; resumedSkipped: number };
      expect(summary.documents + summary.resumedSkipped, `kills at ${kills.join(', ')} ms`).toBeGreaterThan(
        1700,
      );

      const after = await dumpStore(db, SYSTEM);
      expect(after.events.length).toBe(reference.events.length);
      expect(after.events).toEqual(reference.events);
      expect(after.changes).toEqual(reference.changes);
      expect(after.activity).toEqual(reference.activity);
      expect(after.states).toEqual(reference.states);
    }, 300_000);
  }
});
