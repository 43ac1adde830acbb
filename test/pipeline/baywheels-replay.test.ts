/**
 * The whole pipeline on six weeks of real data (Bay Wheels, GBFS 1.x, ../shared): the replay
 * completes, every station's bike count is conserved by the events, and the watcher's blind
 * time never produces a lock.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../src/archive/index.js';
import type { LoggedEvent } from '../../src/events/index.js';
import { parseStationStatus, type StatusDocument } from '../../src/feed/index.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import { assertBuilt, repoRoot, runCli } from '../helpers/cli.js';

const archive = resolve(repoRoot, '../shared/data/baywheels-2023-04');
const present = existsSync(archive);
if (!present) console.warn(`skipped: ${archive} is absent (the shared Bay Wheels recording)`);

const total = (b: { mechanical: number; electric: number; other: number }): number =>
  b.mechanical + b.electric + b.other;

describe.skipIf(!present)('replay of six weeks of Bay Wheels', () => {
  let dir: string;
  let store: Store;
  let summary: {
    documents: number;
    stationObservations: number;
    events: number;
    stateChanges: number;
    system: string;
    archiveErrors: number;
  };
  let events: LoggedEvent[];

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'dockwatch-baywheels-'));
    const db = join(dir, 'bw.sqlite');
    const result = await runCli([
      'replay',
      archive,
      '--database',
      db,
      '--json',
      '--state-changes',
      join(dir, 'changes.jsonl'),
    ]);
    summary = JSON.parse(result.stdout) as typeof summary;
    store = openSqliteStore({ path: db });
    await store.migrate();
    events = await store.log.read(0, 10_000_000);
  }, 900_000);

  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('completes with its summary', () => {
    expect(summary.system).toBe('fgb');
    expect(summary.documents).toBe(5647);
    expect(summary.stationObservations).toBeGreaterThan(2_800_000);
    expect(summary.archiveErrors).toBe(0);
    expect(summary.events).toBe(events.length);
  });

  it('conserves bikes: each event moves the count exactly as the next snapshot shows', () => {
    // Plain comparisons in the loop (400 k events): one expect per event would take minutes.
    const bikes = new Map<string, number>();
    const problems: string[] = [];
    let checked = 0;
    for (const e of events) {
      if (e.type === 'station_added') bikes.set(e.stationId, total(e.after.bikes));
      else if (e.type === 'station_removed') bikes.delete(e.stationId);
      else if (e.type === 'rented' || e.type === 'returned') {
        const before = bikes.get(e.stationId);
        if (before === undefined)
          problems.push(`station ${e.stationId} moved before it was added (offset ${e.offset})`);
        else bikes.set(e.stationId, before + (e.type === 'returned' ? e.count : -e.count));
      } else if (e.type === 'availability_changed' || e.type === 'status_changed') {
        if (bikes.get(e.stationId) !== total(e.after.bikes))
          problems.push(`station ${e.stationId} off at offset ${e.offset}`);
        checked++;
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('Σ returns − Σ rentals = last − first bike count, per station, against the raw documents', async () => {
    let first: StatusDocument | null = null;
    let last: StatusDocument | null = null;
    for await (const item of readArchive([archive], { feeds: ['station_status'] })) {
      const parsed = parseStationStatus(item.doc);
      if (!parsed.ok) continue;
      first ??= parsed.doc;
      last = parsed.doc;
    }
    const firstCount = new Map(first!.stations.map((s) => [s.stationId, total(s.bikes)]));
    const lastCount = new Map(last!.stations.map((s) => [s.stationId, total(s.bikes)]));
    // Stations added or removed after the first document are left out: their counts start or end elsewhere.
    const churned = new Set<string>();
    const net = new Map<string, number>();
    for (const e of events) {
      if ((e.type === 'station_added' && e.timeSec > first!.lastUpdatedSec) || e.type === 'station_removed')
        churned.add(e.stationId);
      if (e.type === 'rented') net.set(e.stationId, (net.get(e.stationId) ?? 0) - e.count);
      if (e.type === 'returned') net.set(e.stationId, (net.get(e.stationId) ?? 0) + e.count);
    }
    let compared = 0;
    const mismatched: string[] = [];
    for (const [id, start] of firstCount) {
      const end = lastCount.get(id);
      if (end === undefined || churned.has(id)) continue;
      if ((net.get(id) ?? 0) !== end - start)
        mismatched.push(`${id}: events say ${net.get(id) ?? 0}, documents ${end - start}`);
      compared++;
    }
    expect(mismatched).toEqual([]);
    expect(compared).toBeGreaterThan(400);
  }, 120_000);

  it('blind time never locks a station', async () => {
    const gaps = events.filter((e) => e.type === 'feed_gap');
    expect(gaps.length).toBeGreaterThan(0);
    const changes = await store.listStateChanges({ system: 'fgb', state: 'locked', limit: 100_000 });
    const resumedAt = new Set(gaps.map((g) => g.timeSec));
    // A lock is decided on evidence gathered while we could see: never on the document that ends a gap.
    expect(changes.filter((c) => resumedAt.has(c.timeSec))).toEqual([]);
    // Silence is measured on seen time only: never longer than the time since the station's last
    // rental or return minus the blind intervals in between.
    const lastActivity = new Map<string, number[]>();
    for (const e of events) {
      if (e.type === 'rented' || e.type === 'returned') {
        const list = lastActivity.get(e.stationId) ?? [];
        list.push(e.timeSec);
        lastActivity.set(e.stationId, list);
      }
    }
    let checked = 0;
    for (const c of changes.filter((ch) => ch.reason === 'missing_activity')) {
      const before = (lastActivity.get(c.stationId) ?? []).filter((t) => t < c.timeSec);
      if (before.length === 0) continue;
      const since = before[before.length - 1]!;
      let blindSec = 0;
      for (const g of gaps)
        if (g.type === 'feed_gap' && g.fromSec >= since && g.timeSec <= c.timeSec)
          blindSec += g.timeSec - g.fromSec;
      expect(c.evidence!.inactiveSec, `lock of ${c.stationId} at ${c.timeSec}`).toBeLessThanOrEqual(
        c.timeSec - since - blindSec,
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
