import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBacktest } from './backtest.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const archive = path.resolve(repoRoot, '../shared/data/baywheels-2023-04');
const present = existsSync(archive);
if (!present) console.log(`skipping the backtest of the shared archive: ${archive} is absent`);

describe.skipIf(!present)('dockwatch backtest on the six-week Bay Wheels archive', () => {
  it('runs seed and poisson side by side in under 5 minutes, writes JSON, and outages raise no alarm', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dockwatch-backtest-'));
    const json = path.join(dir, 'result.json');
    const printed: string[] = [];
    const t0 = performance.now();
    const res = await runBacktest({
      archives: [archive],
      detectors: 'seed,poisson',
      seed: 3,
      faultsPerKind: 40,
      outages: 8,
      json,
      progress: false,
      print: (t) => printed.push(t),
    });
    expect(performance.now() - t0).toBeLessThan(5 * 60_000);
    expect(res.documents).toBe(5647);
    expect(res.scores.map((s) => s.detector)).toEqual(['seed', 'poisson']);
    for (const s of res.scores) expect(s.outages.alarms).toBe(0);
    const poisson = res.scores[1]!;
    const seed = res.scores[0]!;
    // The new detector finds more of the long locks at busy stations than the seed's rule.
    expect(poisson.goalLocks.detected).toBeGreaterThan(seed.goalLocks.detected);
    expect(printed.join('\n')).toContain('GOAL locks');
    const parsed = JSON.parse(await readFile(json, 'utf8')) as { scores: unknown[]; faults: unknown[] };
    expect(parsed.scores).toHaveLength(2);
    expect(parsed.faults.length).toBe(res.faults.length);
  }, 300_000);
});
