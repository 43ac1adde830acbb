import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { change } from '../../test/storage/contract.js';
import { silentLogger } from '../log/index.js';
import { openStore, type Store } from '../storage/index.js';
import { MIN_ACTIVITY_DAYS, pruneStore, retentionCutoffs } from './retention.js';

const DAY = 86_400;
const NOW = 1_764_000_000; // 2025-11-24T16:00:00Z

describe('retention', () => {
  it('cuts events and state changes at the retention, activity never under four weeks', () => {
    expect(retentionCutoffs(NOW, 60)).toEqual({
      eventsBeforeSec: NOW - 60 * DAY,
      stateChangesBeforeSec: NOW - 60 * DAY,
      activityBeforeDay: Math.floor(NOW / DAY) - 60,
    });
    // A week of retention would starve the detectors' three-weeks-back comparison.
    expect(retentionCutoffs(NOW, 7).activityBeforeDay).toBe(Math.floor(NOW / DAY) - MIN_ACTIVITY_DAYS);
    expect(retentionCutoffs(NOW, 7).stateChangesBeforeSec).toBe(NOW - 7 * DAY);
  });

  describe('on a store', () => {
    let dir: string;
    let store: Store;
    beforeEach(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-retention-'));
      store = await openStore(path.join(dir, 'db.sqlite'));
    });
    afterEach(async () => {
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it('deletes what is older than the retention and keeps the rest', async () => {
      await store.commitDetection('detector:velib:seed', 2, [
        change({ stationId: 'a', timeSec: NOW - 61 * DAY, offset: 1 }),
        change({ stationId: 'a', timeSec: NOW - 59 * DAY, offset: 2 }),
      ]);
      const errors: unknown[] = [];
      const opts = {
        nowSec: NOW,
        retentionDays: 60,
        logger: silentLogger,
        onError: (e: unknown) => errors.push(e),
      };
      expect(await pruneStore(store, opts)).toBe(1);
      const left = await store.listStateChanges({ system: 'velib', limit: 10 });
      expect(left.map((c) => c.timeSec)).toEqual([NOW - 59 * DAY]);
      expect(await pruneStore(store, opts)).toBe(0);
      expect(errors).toEqual([]);
    });

    it('reports a failing store to the caller and does not throw', async () => {
      await store.close();
      const errors: unknown[] = [];
      const deleted = await pruneStore(store, {
        nowSec: NOW,
        retentionDays: 60,
        logger: silentLogger,
        onError: (e) => errors.push(e),
      });
      expect(deleted).toBe(0);
      expect(errors).toHaveLength(1);
    });
  });
});
