/**
 * Crash safety of the SQLite store with a real process and a real SIGKILL: a child appends
 * documents and consumes them in a loop; we kill -9 it at random moments, restart it, and check
 * that the log is gapless, that the diff state equals what the events say, and that the activity
 * consumer counted every event up to its offset exactly once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../../src/events/types.js';
import { openStore } from '../../src/storage/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const writer = path.join(repoRoot, 'test/storage/fixtures/crash-writer.ts');
const root = mkdtempSync(path.join(tmpdir(), 'dockwatch-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Start the writer, wait until it has committed a few documents, let it run a random while, kill -9. */
function runAndKill(file: string, runMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (!killed && d.toString().includes('ready')) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), runMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
    });
  });
}

async function readAll(file: string): Promise<LoggedEvent[]> {
  const store = await openStore(file);
  const all: LoggedEvent[] = [];
  for (;;) {
    const page = await store.log.read(all.length === 0 ? 0 : all[all.length - 1]!.offset, 5000);
    if (page.length === 0) break;
    all.push(...page);
  }
  await store.close();
  return all;
}

describe('SQLite store under kill -9', () => {
  it('keeps a gapless log, a diff state matching its events and exactly-once activity', async () => {
    const file = path.join(root, 'crash.sqlite');
    let previous = 0;
    for (let round = 0; round < 4; round++) {
      await runAndKill(file, 50 + Math.floor(Math.random() * 400));
      const events = await readAll(file);
      // Gapless from 1, and each run added documents.
      expect(events.map((e) => e.offset)).toEqual(events.map((_, i) => i + 1));
      expect(events.length).toBeGreaterThan(previous);
      previous = events.length;

      const store = await openStore(file);
      // Every committed diff state equals what the log says: the last event of each station.
      const state = await store.loadDiffState('crash');
      const lastAfter = new Map<string, LoggedEvent>();
      let lastDocumentSec = 0;
      for (const e of events) {
        if (e.type === 'snapshot') lastDocumentSec = e.timeSec;
        if (e.type === 'rented' || e.type === 'returned') lastAfter.set(e.stationId, e);
      }
      expect(state.lastDocumentSec).toBe(lastDocumentSec);
      for (const [stationId, e] of lastAfter) {
        if (e.type !== 'rented' && e.type !== 'returned') continue;
        const s = state.stations.get(stationId);
        expect(s?.bikes, stationId).toEqual(e.after.bikes);
        expect(s?.docksAvailable, stationId).toBe(e.after.docksAvailable);
        expect(s?.lastReportedSec, stationId).toBe(e.timeSec);
      }
      // Activity: every event up to the consumer's offset counted once, none after it.
      const consumed = await store.log.consumerOffset('activity');
      let rented = 0;
      let returned = 0;
      for (const e of events) {
        if (e.offset > consumed) break;
        if (e.type === 'rented') rented += e.count;
        if (e.type === 'returned') returned += e.count;
      }
      const slots = await store.loadActivity('crash', 0);
      expect(slots.reduce((n, s) => n + s.rented, 0)).toBe(rented);
      expect(slots.reduce((n, s) => n + s.returned, 0)).toBe(returned);
      await store.close();
    }
  }, 120_000);
});
