/**
 * The behaviour every Store adapter must have (SQLite now; PostgreSQL and DynamoDB later).
 * `makeStore` returns a fresh, empty store; the suite calls migrate() itself and closes the store
 * after each test, then calls `cleanup` when given.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CountsAfter, FeedEvent } from '../../src/events/types.js';
import type { StationStatus } from '../../src/feed/model.js';
import type { StateChange } from '../../src/detection/types.js';
import { eventLogCases } from './event-log-contract.js';
import {
  activityTotals,
  lastActivitySlots,
  scanActivity,
  type SlotCount,
  type Store,
} from '../../src/storage/index.js';

const SYS = 'velib';

export function after(mechanical: number, electric = 0, docksAvailable = 10): CountsAfter {
  return { bikes: { mechanical, electric, other: 0 }, docksAvailable, bikesDisabled: 1, docksDisabled: 0 };
}

export function status(stationId: string, mechanical: number, docksAvailable = 10): StationStatus {
  return {
    stationId,
    code: `c${stationId}`,
    bikes: { mechanical, electric: 2, other: 0 },
    bikesDisabled: 0,
    docksAvailable,
    docksDisabled: 1,
    isInstalled: true,
    isRenting: true,
    isReturning: false,
    lastReportedSec: 1_700_000_000,
  };
}

export function rented(stationId: string, timeSec: number, count = 1, system = SYS): FeedEvent {
  return {
    system,
    timeSec,
    stationId,
    type: 'rented',
    bikeType: 'mechanical',
    count,
    after: after(5 - count),
  };
}

/** One event of every type, with every optional shape (null info, null capacity…). */
export function everyKind(timeSec: number): FeedEvent[] {
  const info = {
    stationId: '16107',
    code: '16107',
    name: 'Benjamin Godard - Victor Hugo',
    lat: 48.865983,
    lon: 2.275725,
    capacity: 35,
  };
  return [
    { system: SYS, timeSec, type: 'snapshot', stations: 1495, intervalSec: null },
    { system: SYS, timeSec: timeSec + 60, type: 'snapshot', stations: 1494, intervalSec: 60 },
    {
      system: SYS,
      timeSec,
      stationId: '1',
      type: 'rented',
      bikeType: 'electric',
      count: 2,
      after: after(3, 1),
    },
    {
      system: SYS,
      timeSec,
      stationId: '1',
      type: 'returned',
      bikeType: 'mechanical',
      count: 1,
      after: after(4, 1),
    },
    {
      system: SYS,
      timeSec,
      stationId: '1',
      type: 'returned',
      bikeType: 'other',
      count: 3,
      after: after(4, 1),
    },
    { system: SYS, timeSec, stationId: '2', type: 'availability_changed', after: after(0, 0, 0) },
    {
      system: SYS,
      timeSec,
      stationId: '16107',
      type: 'station_added',
      flags: { installed: true, renting: false, returning: true },
      info,
      after: after(7),
    },
    {
      system: SYS,
      timeSec,
      stationId: '3',
      type: 'station_added',
      flags: { installed: false, renting: false, returning: false },
      info: null,
      after: after(0),
    },
    { system: SYS, timeSec, type: 'station_removed', stationId: '4' },
    {
      system: SYS,
      timeSec,
      stationId: '5',
      type: 'status_changed',
      flag: 'renting',
      from: true,
      to: false,
      after: after(2),
    },
    {
      system: SYS,
      timeSec,
      stationId: '5',
      type: 'status_changed',
      flag: 'installed',
      from: false,
      to: true,
      after: after(2),
    },
    { system: SYS, timeSec, type: 'capacity_changed', stationId: '6', from: null, to: 20 },
    { system: SYS, timeSec, type: 'capacity_changed', stationId: '7', from: 30, to: null },
    { system: SYS, timeSec, type: 'feed_gap', fromSec: timeSec - 3600 },
    { system: SYS, timeSec: timeSec + 1, type: 'feed_resumed', gapSec: 3601 },
    {
      system: 'other-system',
      timeSec,
      stationId: '1',
      type: 'rented',
      bikeType: 'mechanical',
      count: 1,
      after: after(0),
    },
  ];
}

export function change(
  p: Partial<StateChange> & { stationId: string; timeSec: number; offset: number },
): StateChange {
  return {
    system: SYS,
    from: 'ok',
    to: 'locked',
    detector: 'seed',
    confidence: 0.9,
    reason: 'missing_activity',
    evidence: { expected: 12.5, observed: 0, inactiveSec: 7200, ratio: 0.01 },
    ...p,
  };
}

const byId = <T extends { stationId: string }>(a: T, b: T): number => a.stationId.localeCompare(b.stationId);

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void>,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
      await store.migrate();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    describe('migrations', () => {
      it('can be applied again at every start', async () => {
        await store.migrate();
        await store.migrate();
        expect(await store.log.lastOffset()).toBe(0);
      });
    });

    describe('event log', () => {
      eventLogCases(() => store.log);
    });

    describe('commitDiff', () => {
      const doc1 = {
        lastDocumentSec: 1000,
        changed: [status('1', 5), status('2', 0, 20)],
        removed: [],
        capacities: new Map<string, number | null>([
          ['1', 20],
          ['2', null],
        ]),
      };

      it('appends the events and saves the diff state; the state round-trips', async () => {
        const out = await store.commitDiff(SYS, [rented('1', 1000), rented('2', 1000)], doc1);
        expect(out.map((e) => e.offset)).toEqual([1, 2]);
        const state = await store.loadDiffState(SYS);
        expect(state.lastDocumentSec).toBe(1000);
        expect(state.stations).toEqual(
          new Map([
            ['1', status('1', 5)],
            ['2', status('2', 0, 20)],
          ]),
        );
        expect(state.capacities).toEqual(doc1.capacities);
        expect((await store.listStationStatus(SYS)).sort(byId)).toEqual([status('1', 5), status('2', 0, 20)]);
      });

      it('updates only the changed stations, applies removals and capacity changes', async () => {
        await store.commitDiff(SYS, [], doc1);
        const s3 = { ...status('3', 9), code: null, lastReportedSec: null, isInstalled: false };
        await store.commitDiff(SYS, [rented('1', 1060)], {
          lastDocumentSec: 1060,
          changed: [status('1', 4), s3],
          removed: ['2'],
          capacities: new Map<string, number | null>([
            ['1', 22],
            ['3', 15],
          ]),
        });
        const state = await store.loadDiffState(SYS);
        expect(state.lastDocumentSec).toBe(1060);
        expect(state.stations).toEqual(
          new Map([
            ['1', status('1', 4)],
            ['3', s3],
          ]),
        );
        expect(state.capacities).toEqual(
          new Map([
            ['1', 22],
            ['3', 15],
          ]),
        );
      });

      it('a document processed twice appends nothing new', async () => {
        const events = [rented('1', 1000), rented('2', 1000)];
        await store.commitDiff(SYS, events, doc1);
        expect(await store.commitDiff(SYS, events, doc1)).toEqual([]);
        expect(await store.log.lastOffset()).toBe(2);
      });

      it('is atomic: an invalid event in the batch leaves log and state as they were', async () => {
        await store.commitDiff(SYS, [rented('1', 1000)], doc1);
        const before = await store.loadDiffState(SYS);
        const bad = { system: SYS, timeSec: 1060, stationId: '9', type: 'exploded' } as unknown as FeedEvent;
        await expect(
          store.commitDiff(SYS, [rented('1', 1060), rented('2', 1060), bad], {
            lastDocumentSec: 1060,
            changed: [status('1', 1), status('9', 3)],
            removed: ['2'],
            capacities: new Map([['1', 99]]),
          }),
        ).rejects.toThrow();
        expect(await store.log.lastOffset()).toBe(1);
        expect(await store.loadDiffState(SYS)).toEqual(before);
        // And the store goes on: the next good document gets the next offset.
        const out = await store.commitDiff(SYS, [rented('1', 1060)], { ...doc1, lastDocumentSec: 1060 });
        expect(out.map((e) => e.offset)).toEqual([2]);
      });

      it('is atomic when the state update is bad: the events are not appended either', async () => {
        await expect(
          store.commitDiff(SYS, [rented('1', 1000)], {
            ...doc1,
            changed: [{ ...status('1', 5), docksAvailable: 2.5 }],
          }),
        ).rejects.toThrow();
        expect(await store.log.lastOffset()).toBe(0);
        expect((await store.loadDiffState(SYS)).lastDocumentSec).toBeNull();
      });

      it('after many documents the state equals a reference kept in memory', async () => {
        const stations = new Map<string, StationStatus>();
        const capacities = new Map<string, number | null>();
        let seed = 7;
        const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
        for (let d = 0; d < 150; d++) {
          const changed: StationStatus[] = [];
          const removed: string[] = [];
          for (let k = 0; k < 8; k++) {
            const id = String(Math.floor(random() * 30));
            if (random() < 0.1) {
              removed.push(id);
              stations.delete(id);
              capacities.delete(id);
            } else {
              const s = {
                ...status(id, Math.floor(random() * 20)),
                code: random() < 0.2 ? null : `Gare de l'Est ${id}`,
                lastReportedSec: d,
              };
              changed.push(s);
              stations.set(id, s);
              if (random() < 0.3) capacities.set(id, random() < 0.2 ? null : 10 + d);
            }
          }
          // Removals after changes, as commitDiff applies them.
          for (const id of removed) {
            stations.delete(id);
            capacities.delete(id);
          }
          await store.commitDiff(SYS, [rented('x', 1000 + d * 60)], {
            lastDocumentSec: 1000 + d * 60,
            changed,
            removed,
            capacities: new Map(capacities),
          });
          if (d % 37 === 0 || d === 149) {
            const state = await store.loadDiffState(SYS);
            expect(state.stations).toEqual(stations);
            expect(state.capacities).toEqual(capacities);
            expect(state.lastDocumentSec).toBe(1000 + d * 60);
          }
        }
        // What loadDiffState returns belongs to the caller: changing it changes nothing stored.
        const mine = await store.loadDiffState(SYS);
        mine.stations.clear();
        mine.capacities.set('zz', 1);
        expect((await store.loadDiffState(SYS)).stations).toEqual(stations);
        expect((await store.loadDiffState(SYS)).capacities).toEqual(capacities);
      });

      it('an unknown system has an empty diff state', async () => {
        const state = await store.loadDiffState('nowhere');
        expect(state).toEqual({ lastDocumentSec: null, stations: new Map(), capacities: new Map() });
        expect(await store.listStationStatus('nowhere')).toEqual([]);
      });
    });

    describe('batch', () => {
      it('runs several commits and returns what fn returns; they are all visible after', async () => {
        const out = await store.batch(async () => {
          const a = await store.commitDiff(SYS, [rented('1', 1000)], {
            lastDocumentSec: 1000,
            changed: [status('1', 4)],
            removed: [],
            capacities: new Map(),
          });
          const b = await store.commitDiff(SYS, [rented('1', 1060)], {
            lastDocumentSec: 1060,
            changed: [status('1', 3)],
            removed: [],
            capacities: new Map(),
          });
          await store.commitActivity(SYS, 'activity', 2, [
            { stationId: '1', day: 1, slot: 1, rented: 2, returned: 0 },
          ]);
          return [...a, ...b].map((e) => e.offset);
        });
        expect(out).toEqual([1, 2]);
        expect(await store.log.lastOffset()).toBe(2);
        expect((await store.loadDiffState(SYS)).stations.get('1')).toEqual(status('1', 3));
        expect(await store.log.consumerOffset('activity')).toBe(2);
      });
    });

    describe('activity', () => {
      it('adds increments and moves the consumer offset', async () => {
        await store.commitActivity(SYS, 'activity', 10, [
          { stationId: 'a', day: 20000, slot: 0, rented: 2, returned: 0 },
          { stationId: 'a', day: 20000, slot: 143, rented: 0, returned: 1 },
          { stationId: 'b', day: 20001, slot: 5, rented: 1, returned: 1 },
        ]);
        expect(await store.log.consumerOffset('activity')).toBe(10);
        await store.commitActivity(SYS, 'activity', 20, [
          { stationId: 'a', day: 20000, slot: 0, rented: 3, returned: 4 },
          { stationId: 'a', day: 20000, slot: 0, rented: 1, returned: 0 },
        ]);
        expect(await store.log.consumerOffset('activity')).toBe(20);
        const all = await store.loadActivity(SYS, 20000);
        const key = (s: { stationId: string; day: number; slot: number }): string =>
          `${s.stationId}/${s.day}/${s.slot}`;
        expect(all.sort((x, y) => key(x).localeCompare(key(y)))).toEqual([
          { stationId: 'a', day: 20000, slot: 0, rented: 6, returned: 4 },
          { stationId: 'a', day: 20000, slot: 143, rented: 0, returned: 1 },
          { stationId: 'b', day: 20001, slot: 5, rented: 1, returned: 1 },
        ]);
        expect(await store.loadActivity(SYS, 20001)).toEqual([
          { stationId: 'b', day: 20001, slot: 5, rented: 1, returned: 1 },
        ]);
        expect((await store.loadActivity(SYS, 19000, 20000)).length).toBe(2);
        expect((await store.loadActivity(SYS, 20000, undefined, 'b')).length).toBe(1);
        expect(await store.loadActivity(SYS, 20000, undefined, 'zz')).toEqual([]);
        expect(await store.loadActivity('nowhere', 0)).toEqual([]);
      });

      it('sums, scans and finds the last activity without listing every slot', async () => {
        await store.commitActivity(SYS, 'activity', 10, [
          { stationId: 'a', day: 20000, slot: 3, rented: 2, returned: 1 },
          { stationId: 'b', day: 20000, slot: 3, rented: 5, returned: 0 },
          { stationId: '~observed', day: 20000, slot: 3, rented: 600, returned: 0 },
          { stationId: 'a', day: 20000, slot: 7, rented: 0, returned: 0 },
          { stationId: 'b', day: 20001, slot: 0, rented: 0, returned: 4 },
          { stationId: 'c', day: 20001, slot: 9, rented: 0, returned: 0 },
          { stationId: 'a', day: 20002, slot: 1, rented: 9, returned: 9 },
        ]);
        expect(await activityTotals(store, SYS, 20000, 20001, ['~observed'])).toEqual([
          { day: 20000, slot: 3, rented: 7, returned: 1 },
          { day: 20000, slot: 7, rented: 0, returned: 0 },
          { day: 20001, slot: 0, rented: 0, returned: 4 },
          { day: 20001, slot: 9, rented: 0, returned: 0 },
        ]);
        // An excluded id the store has never seen is no error.
        expect(await activityTotals(store, SYS, 20000, 20000, ['~observed', 'b', 'zz'])).toEqual([
          { day: 20000, slot: 3, rented: 2, returned: 1 },
          { day: 20000, slot: 7, rented: 0, returned: 0 },
        ]);
        expect(await activityTotals(store, 'nowhere', 0, 99999)).toEqual([]);

        // Slots without a rental or a return do not count as activity ('a' on 20000/7, 'c').
        const last = await lastActivitySlots(store, SYS, 20000, 20001);
        expect(last.sort((x, y) => x.stationId.localeCompare(y.stationId))).toEqual([
          { stationId: '~observed', day: 20000, slot: 3 },
          { stationId: 'a', day: 20000, slot: 3 },
          { stationId: 'b', day: 20001, slot: 0 },
        ]);
        expect(await lastActivitySlots(store, 'nowhere', 0, 99999)).toEqual([]);

        const scanned: SlotCount[] = [];
        await scanActivity(store, SYS, 20001, 20002, (slot) => scanned.push(slot));
        const key = (s: SlotCount): string => `${s.stationId}/${s.day}/${s.slot}`;
        expect(scanned.sort((x, y) => key(x).localeCompare(key(y)))).toEqual(
          (await store.loadActivity(SYS, 20001, 20002)).sort((x, y) => key(x).localeCompare(key(y))),
        );
        expect(scanned).toHaveLength(3);

        // A backend without the aggregates gets the same answers from loadActivity.
        const plain = { loadActivity: store.loadActivity.bind(store) } as Store;
        expect(await activityTotals(plain, SYS, 20000, 20001, ['~observed'])).toEqual(
          await activityTotals(store, SYS, 20000, 20001, ['~observed']),
        );
        expect(
          (await lastActivitySlots(plain, SYS, 20000, 20001)).sort((x, y) =>
            x.stationId.localeCompare(y.stationId),
          ),
        ).toEqual(last);
        const plainScanned: SlotCount[] = [];
        await scanActivity(plain, SYS, 20001, 20002, (slot) => plainScanned.push(slot));
        expect(plainScanned.sort((x, y) => key(x).localeCompare(key(y)))).toEqual(scanned);
      });

      it('is atomic: a bad increment adds nothing and leaves the offset', async () => {
        await store.commitActivity(SYS, 'activity', 10, [
          { stationId: 'a', day: 20000, slot: 1, rented: 1, returned: 0 },
        ]);
        await expect(
          store.commitActivity(SYS, 'activity', 20, [
            { stationId: 'a', day: 20000, slot: 1, rented: 5, returned: 0 },
            { stationId: 'a', day: 20000, slot: 144, rented: 1, returned: 0 },
          ]),
        ).rejects.toThrow();
        expect(await store.log.consumerOffset('activity')).toBe(10);
        expect(await store.loadActivity(SYS, 0)).toEqual([
          { stationId: 'a', day: 20000, slot: 1, rented: 1, returned: 0 },
        ]);
      });
    });

    describe('detection', () => {
      const changes = [
        change({ stationId: 'a', timeSec: 5000, offset: 40 }),
        change({ stationId: 'b', timeSec: 5100, offset: 41, evidence: null }),
      ];

      it('state changes are idempotent by (system, station, detector, offset, to)', async () => {
        await store.commitDetection('detector:velib:seed', 41, changes);
        await store.commitDetection('detector:velib:seed', 41, changes);
        const other = change({ stationId: 'a', timeSec: 5000, offset: 40, detector: 'poisson' });
        await store.commitDetection('detector:velib:poisson', 41, [
          ...changes.map((c) => ({ ...c, detector: 'poisson' })),
          other,
        ]);
        const stored = await store.listStateChanges({ limit: 100 });
        expect(stored).toHaveLength(4);
        const seed = stored.filter((c) => c.detector === 'seed').map(({ id: _id, ...c }) => c);
        expect(seed.sort(byId)).toEqual(changes);
        expect(new Set(stored.map((c) => c.id)).size).toBe(4);
      });

      it('saves the checkpoint and the offset with the changes; a later commit without checkpoint keeps it', async () => {
        expect(await store.loadCheckpoint('detector:velib:seed')).toBeNull();
        const state = {
          stations: { a: { lastActivitySec: 4000, state: 'locked' } },
          seen: [1, 2.5, null],
          ok: true,
        };
        await store.commitDetection('detector:velib:seed', 41, changes, state);
        expect(await store.loadCheckpoint('detector:velib:seed')).toEqual({ offset: 41, state });
        expect(await store.log.consumerOffset('detector:velib:seed')).toBe(41);
        await store.commitDetection('detector:velib:seed', 50, []);
        expect(await store.log.consumerOffset('detector:velib:seed')).toBe(50);
        expect(await store.loadCheckpoint('detector:velib:seed')).toEqual({ offset: 41, state });
        await store.commitDetection('detector:velib:seed', 60, [], { n: 2 });
        expect(await store.loadCheckpoint('detector:velib:seed')).toEqual({ offset: 60, state: { n: 2 } });
      });

      it('keeps binary checkpoint parts as binary: byte-exact, as Uint8Array, the JSON around them as it was', async () => {
        const consumer = 'detector:velib:poisson';
        const every = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
        const state = {
          version: 1,
          detector: { v: 3, bin: every },
          machine: { stations: [['a', { n: 1 }]] },
        };
        await store.commitDetection(consumer, 41, changes, state);
        const loaded = await store.loadCheckpoint(consumer);
        expect(loaded?.offset).toBe(41);
        const got = loaded!.state as typeof state;
        expect(got.detector.bin).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(got.detector.bin).equals(every)).toBe(true);
        expect({ ...got, detector: { ...got.detector, bin: null } }).toEqual({
          ...state,
          detector: { v: 3, bin: null },
        });
        // A checkpoint that is binary as a whole, from a Buffer (its toJSON is not used).
        const whole = Buffer.from('not JSON \u0000\u00ff', 'latin1');
        await store.commitDetection(consumer, 45, [], whole);
        const back = await store.loadCheckpoint(consumer);
        expect(back?.offset).toBe(45);
        expect(back?.state).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(back!.state as Uint8Array).equals(whole)).toBe(true);
      });

      it('round-trips large binary checkpoints (> 1 MB, several parts) and replaces them by JSON ones', async () => {
        const consumer = 'detector:velib:poisson';
        // Random bytes do not compress: DynamoDB needs several chunk items for them.
        const big = randomBytes(1_300_000);
        const small = randomBytes(10);
        await store.commitDetection(consumer, 100, [], { big, list: [small, 'x'], empty: new Uint8Array(0) });
        const got = (await store.loadCheckpoint(consumer))!.state as {
          big: Uint8Array;
          list: [Uint8Array, string];
          empty: Uint8Array;
        };
        expect(Buffer.from(got.big).equals(big)).toBe(true);
        expect(Buffer.from(got.list[0]).equals(small)).toBe(true);
        expect(got.list[1]).toBe('x');
        expect(got.empty).toBeInstanceOf(Uint8Array);
        expect(got.empty.byteLength).toBe(0);
        await store.commitDetection(consumer, 120, [], { n: 3 });
        expect(await store.loadCheckpoint(consumer)).toEqual({ offset: 120, state: { n: 3 } });
      });

      it('keeps JSON checkpoints as they are: base64 text stays text, a "$binary" key is only a key', async () => {
        const consumer = 'detector:velib:poisson';
        // A poisson checkpoint as saved before binary storage: its pack as a base64 string.
        const old = {
          version: 1,
          detector: { v: 3, bin: randomBytes(3000).toString('base64') },
          machine: {},
        };
        await store.commitDetection(consumer, 10, [], old);
        expect(await store.loadCheckpoint(consumer)).toEqual({ offset: 10, state: old });
        const lookalike = { $binary: [0, 4], nested: [{ $binary: [1, 1] }] };
        await store.commitDetection(consumer, 11, [], lookalike);
        expect(await store.loadCheckpoint(consumer)).toEqual({ offset: 11, state: lookalike });
        // Next to binary data such an object would be ambiguous: refused, nothing written.
        await expect(
          store.commitDetection(consumer, 12, [], { ...lookalike, bin: new Uint8Array(2) }),
        ).rejects.toThrow(/\$binary/);
        expect(await store.loadCheckpoint(consumer)).toEqual({ offset: 11, state: lookalike });
      });

      it('is atomic: a bad change writes neither the changes nor the checkpoint nor the offset', async () => {
        const bad = {
          ...change({ stationId: 'c', timeSec: 5200, offset: 42 }),
          timeSec: 'soon',
        } as unknown as StateChange;
        await expect(
          store.commitDetection('detector:velib:seed', 42, [...changes, bad], { n: 1 }),
        ).rejects.toThrow();
        expect(await store.listStateChanges({ limit: 10 })).toEqual([]);
        expect(await store.loadCheckpoint('detector:velib:seed')).toBeNull();
        expect(await store.log.consumerOffset('detector:velib:seed')).toBe(0);
      });

      it('lists state changes newest first, with filters and cursor pagination', async () => {
        const all: StateChange[] = [];
        for (let i = 0; i < 30; i++) {
          all.push(
            change({
              system: i % 10 === 9 ? 'other' : SYS,
              stationId: `s${i % 3}`,
              timeSec: 10_000 + i * 100,
              offset: 100 + i,
              to: i % 2 === 0 ? 'locked' : 'ok',
              from: i % 2 === 0 ? 'ok' : 'locked',
            }),
          );
        }
        // In three commits, as a detector would.
        await store.commitDetection('d', 110, all.slice(0, 10));
        await store.commitDetection('d', 120, all.slice(10, 20));
        await store.commitDetection('d', 130, all.slice(20));

        const newest = await store.listStateChanges({ limit: 5 });
        expect(newest.map((c) => c.offset)).toEqual([129, 128, 127, 126, 125]);
        const ids = newest.map((c) => c.id);
        expect([...ids].sort((a, b) => b - a)).toEqual(ids);

        // Walk every page of one system's locked changes.
        const seen: number[] = [];
        let beforeId: number | undefined;
        for (;;) {
          const page = await store.listStateChanges({
            system: SYS,
            state: 'locked',
            limit: 4,
            ...(beforeId ? { beforeId } : {}),
          });
          if (page.length === 0) break;
          seen.push(...page.map((c) => c.offset));
          beforeId = page[page.length - 1]!.id;
        }
        const expected = all
          .filter((c) => c.system === SYS && c.to === 'locked')
          .map((c) => c.offset)
          .reverse();
        expect(seen).toEqual(expected);

        const s1 = await store.listStateChanges({ system: SYS, stationId: 's1', limit: 100 });
        expect(s1.map((c) => c.offset)).toEqual(
          all
            .filter((c) => c.system === SYS && c.stationId === 's1')
            .map((c) => c.offset)
            .reverse(),
        );
        const anySystem = await store.listStateChanges({ stationId: 's0', limit: 100 });
        expect(anySystem).toHaveLength(all.filter((c) => c.stationId === 's0').length);

        const window = await store.listStateChanges({ sinceSec: 10_500, untilSec: 11_000, limit: 100 });
        expect(window.map((c) => c.timeSec)).toEqual([10_900, 10_800, 10_700, 10_600, 10_500]);
        expect(await store.listStateChanges({ system: 'nowhere', limit: 10 })).toEqual([]);
        expect(await store.listStateChanges({ system: SYS, stationId: 'nowhere', limit: 10 })).toEqual([]);
        expect(await store.listStateChanges({ system: 'other', limit: 10 })).toHaveLength(3);
      });

      it('upserts detected states per station', async () => {
        await store.saveDetectedStates(SYS, [
          { stationId: 'a', state: 'ok', sinceSec: 100, confidence: 0.5, detector: 'seed' },
          { stationId: 'b', state: 'learning', sinceSec: 100, confidence: 0, detector: 'seed' },
        ]);
        await store.saveDetectedStates(SYS, [
          { stationId: 'a', state: 'locked', sinceSec: 900, confidence: 0.97, detector: 'seed' },
        ]);
        await store.saveDetectedStates('other', [
          { stationId: 'a', state: 'ok', sinceSec: 1, confidence: 1, detector: 'seed' },
        ]);
        expect((await store.listDetectedStates(SYS)).sort(byId)).toEqual([
          { stationId: 'a', state: 'locked', sinceSec: 900, confidence: 0.97, detector: 'seed' },
          { stationId: 'b', state: 'learning', sinceSec: 100, confidence: 0, detector: 'seed' },
        ]);
        expect(await store.listDetectedStates('nowhere')).toEqual([]);
      });
    });

    describe('systems, feed health, station information', () => {
      it('upserts and lists systems', async () => {
        await store.upsertSystem({
          id: 'velib',
          name: 'Vélib',
          feedUrl: 'http://127.0.0.1/gbfs.json',
          timezone: 'Europe/Paris',
        });
        await store.upsertSystem({
          id: 'bay',
          name: 'Bay Wheels',
          feedUrl: 'http://127.0.0.1/bay.json',
          timezone: 'America/Los_Angeles',
        });
        await store.upsertSystem({
          id: 'velib',
          name: "Vélib' Métropole",
          feedUrl: 'http://127.0.0.1/gbfs.json',
          timezone: 'Europe/Paris',
        });
        // A system only seen in events is not a registered system.
        await store.log.append([rented('a', 1, 1, 'ghost')]);
        const systems = await store.listSystems();
        expect(systems.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
          {
            id: 'bay',
            name: 'Bay Wheels',
            feedUrl: 'http://127.0.0.1/bay.json',
            timezone: 'America/Los_Angeles',
          },
          {
            id: 'velib',
            name: "Vélib' Métropole",
            feedUrl: 'http://127.0.0.1/gbfs.json',
            timezone: 'Europe/Paris',
          },
        ]);
      });

      it('feed health round-trips and is null for an unknown system', async () => {
        expect(await store.feedHealth(SYS)).toBeNull();
        const h = {
          system: SYS,
          lastDocumentSec: 1_760_000_000,
          lastPollSec: 1_760_000_030,
          lastSuccessSec: null,
          stale: true,
          consecutiveFailures: 3,
          lastError: 'HTTP 503 from http://127.0.0.1/station_status.json',
          rejected: { not_json: 2, negative_count: 17 },
        };
        await store.saveFeedHealth(h);
        expect(await store.feedHealth(SYS)).toEqual(h);
        const h2 = {
          ...h,
          stale: false,
          consecutiveFailures: 0,
          lastError: null,
          lastSuccessSec: 1_760_000_060,
          rejected: {},
        };
        await store.saveFeedHealth(h2);
        expect(await store.feedHealth(SYS)).toEqual(h2);
      });

      it('upserts station information', async () => {
        const a = {
          stationId: '16107',
          code: '16107',
          name: 'Benjamin Godard',
          lat: 48.865983,
          lon: 2.275725,
          capacity: 35,
        };
        const b = { stationId: '2', code: '2', name: 'Deux', lat: -33.5, lon: 151.25, capacity: null };
        await store.saveStationInfo(SYS, [a, b]);
        const a2 = { ...a, name: 'Benjamin Godard - Victor Hugo', capacity: 36 };
        await store.saveStationInfo(SYS, [a2]);
        expect((await store.listStationInfo(SYS)).sort(byId)).toEqual([a2, b]);
        expect(await store.listStationInfo('nowhere')).toEqual([]);
      });
    });

    describe('prune', () => {
      it('drops old events only up to the lowest consumer offset, plus old state changes and activity', async () => {
        // Events at t = 1000 … 1900 (offsets 1 … 10).
        await store.log.append(Array.from({ length: 10 }, (_, i) => rented('a', 1000 + i * 100)));
        await store.log.commitOffset('activity', 8);
        await store.commitDetection(
          'detector:velib:seed',
          9,
          [change({ stationId: 'a', timeSec: 1000, offset: 1 })],
          { s: 1 },
        );
        await store.commitDetection('detector:velib:seed', 9, [
          change({ stationId: 'a', timeSec: 2000, offset: 9 }),
        ]);
        await store.commitDetection('detector:velib:seed', 4, [], { s: 2 }); // checkpoint at 4 → restarts need events > 4
        await store.commitDetection('detector:velib:seed', 9, []);
        await store.commitActivity(SYS, 'activity', 8, [
          { stationId: 'a', day: 100, slot: 1, rented: 1, returned: 0 },
          { stationId: 'a', day: 101, slot: 1, rented: 1, returned: 0 },
        ]);
        const n = await store.prune({
          eventsBeforeSec: 1800,
          stateChangesBeforeSec: 1500,
          activityBeforeDay: 101,
        });
        // Events 1..4 are old and behind every consumer (the checkpoint at 4 bounds it); 5..8 old but needed.
        expect((await store.log.read(0, 100)).map((e) => e.offset)).toEqual([5, 6, 7, 8, 9, 10]);
        expect((await store.listStateChanges({ limit: 10 })).map((c) => c.timeSec)).toEqual([2000]);
        expect((await store.loadActivity(SYS, 0)).map((s) => s.day)).toEqual([101]);
        expect(n).toBe(4 + 1 + 1);
        expect(await store.log.lastOffset()).toBe(10);
      });

      it('never lets offsets restart, even when every event is old and consumed', async () => {
        await store.log.append([rented('a', 100), rented('a', 200)]);
        await store.log.commitOffset('activity', 2);
        await store.prune({ eventsBeforeSec: 10_000, stateChangesBeforeSec: 0, activityBeforeDay: 0 });
        const out = await store.log.append([rented('a', 300)]);
        expect(out[0]?.offset).toBe(3);
        expect((await store.log.read(0, 10)).map((e) => e.offset)).toEqual([2, 3]);
      });
    });
  });
}
