/**
 * The event-log cases of the storage contract: run inside the Store contract (the log of every
 * Store) and over a bare EventLog that lives outside a Store (JetStream, test/broker). Same cases,
 * same expectations for every backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/events/types.js';
import type { EventLog } from '../../src/storage/index.js';
import { everyKind, rented } from './contract.js';

/** Registers the cases in the current describe block; `getLog` gives the fresh, empty log of each case. */
export function eventLogCases(getLog: () => EventLog): void {
  it('starts empty', async () => {
    expect(await getLog().lastOffset()).toBe(0);
    expect(await getLog().read(0, 10)).toEqual([]);
  });

  it('appends every kind of event with gapless offsets and reads them back unchanged', async () => {
    const events = everyKind(1_760_000_000);
    const appended = await getLog().append(events);
    expect(appended.map((e) => e.offset)).toEqual(events.map((_, i) => i + 1));
    expect(appended).toEqual(events.map((e, i) => ({ ...e, offset: i + 1 })));
    expect(await getLog().read(0, 100)).toEqual(appended);
    expect(await getLog().lastOffset()).toBe(events.length);
  });

  it('is idempotent by event key: a batch appended twice appends nothing the second time', async () => {
    const events = everyKind(1_760_000_000);
    await getLog().append(events);
    expect(await getLog().append(events)).toEqual([]);
    expect(await getLog().lastOffset()).toBe(events.length);
  });

  it('skips only the events already present and keeps offsets gapless', async () => {
    await getLog().append([rented('a', 100), rented('b', 100)]);
    const again = await getLog().append([rented('a', 100, 3), rented('c', 100), rented('a', 160)]);
    expect(again.map((e) => [e.offset, 'stationId' in e ? e.stationId : '', e.timeSec])).toEqual([
      [3, 'c', 100],
      [4, 'a', 160],
    ]);
    expect((await getLog().read(0, 10)).map((e) => e.offset)).toEqual([1, 2, 3, 4]);
  });

  it('skips a duplicate inside one batch', async () => {
    expect(await getLog().append([rented('a', 100), rented('a', 100)])).toHaveLength(1);
  });

  it('distinguishes keys: bike type, flag, system and time make different events', async () => {
    const base = rented('a', 100);
    const out = await getLog().append([
      base,
      { ...base, bikeType: 'electric' } as FeedEvent,
      { ...base, type: 'returned' } as FeedEvent,
      { ...base, system: 'other' },
      { ...base, timeSec: 101 },
      { ...base, stationId: 'b' } as FeedEvent,
    ]);
    expect(out).toHaveLength(6);
  });

  it('reads pages after an offset, oldest first, at most limit', async () => {
    await getLog().append(Array.from({ length: 25 }, (_, i) => rented(String(i % 5), 1000 + i * 60)));
    const pages: number[][] = [];
    let offset = 0;
    for (;;) {
      const page = await getLog().read(offset, 10);
      if (page.length === 0) break;
      pages.push(page.map((e) => e.offset));
      offset = page[page.length - 1]!.offset;
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await getLog().read(25, 10)).toEqual([]);
    expect((await getLog().read(24, 10)).map((e) => e.timeSec)).toEqual([1000 + 24 * 60]);
  });

  it('keeps one committed offset per consumer, 0 before the first commit', async () => {
    expect(await getLog().consumerOffset('activity')).toBe(0);
    await getLog().commitOffset('activity', 42);
    await getLog().commitOffset('detector:velib:seed', 7);
    expect(await getLog().consumerOffset('activity')).toBe(42);
    expect(await getLog().consumerOffset('detector:velib:seed')).toBe(7);
    await getLog().commitOffset('activity', 50);
    expect(await getLog().consumerOffset('activity')).toBe(50);
  });

  it('rejects an invalid batch whole: nothing of it is appended', async () => {
    await getLog().append([rented('a', 100)]);
    const bad = [rented('b', 200), rented('c', 200), { ...rented('d', 200), count: 1.5 } as FeedEvent];
    await expect(getLog().append(bad)).rejects.toThrow();
    expect(await getLog().lastOffset()).toBe(1);
    expect((await getLog().append([rented('b', 200)]))[0]?.offset).toBe(2);
  });
}

/** The cases over a bare EventLog: `makeLog` returns a fresh, empty log. */
export function describeEventLogContract(
  name: string,
  makeLog: () => Promise<EventLog>,
  cleanup?: (log: EventLog) => Promise<void>,
): void {
  describe(`EventLog contract: ${name}`, () => {
    let log: EventLog;
    beforeEach(async () => {
      log = await makeLog();
    });
    afterEach(async () => {
      await cleanup?.(log);
    });
    eventLogCases(() => log);
  });
}
