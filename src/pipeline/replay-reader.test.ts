/**
 * The replay's reader on its own thread must hand the pipeline exactly what reading on the
 * pipeline's thread gives: same items in the same order, same parse results and rejections, same
 * archive errors and counters. Real files, a real worker thread.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyArchiveStats, readArchive, type ArchiveError } from '../archive/index.js';
import type { StatusDocument } from '../feed/model.js';
import { readReplayItems, type ReplayItem } from './replay-reader.js';
import { StatusDecoder, StatusEncoder } from './status-codec.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dockwatch-replay-reader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_000;

async function writeFeed(feed: string, lines: string[]): Promise<void> {
  await writeFile(path.join(dir, `${feed}.jsonl.br`), brotliCompressSync(Buffer.from(lines.join('\n'))));
}

function station(i: number, t: number): Record<string, unknown> {
  return {
    station_id: `st-${i}`,
    num_bikes_available: (i * 7 + t) % 9,
    vehicle_types_available: [
      { vehicle_type_id: 'bike', count: (i + t) % 4 },
      { vehicle_type_id: 'ebike', count: ((i * 7 + t) % 9) - ((i + t) % 4) },
    ],
    num_docks_available: 10,
    is_installed: i % 5 !== 0 || t % 2 === 0,
    is_renting: true,
    is_returning: i % 3 !== 0,
    last_reported: i === 2 ? 86_400 : T0 + t * 60 - i,
  };
}

/** A small archive with every feed, odd stations, a rejected document and a line that is not JSON. */
async function writeArchive(): Promise<void> {
  await writeFeed('system_information', [
    JSON.stringify({ last_updated: T0, data: { system_id: 'tst', timezone: 'Europe/Paris', name: 'Test' } }),
  ]);
  await writeFeed('vehicle_types', [
    JSON.stringify({
      last_updated: T0,
      data: {
        vehicle_types: [
          { vehicle_type_id: 'bike', form_factor: 'bicycle', propulsion_type: 'human' },
          { vehicle_type_id: 'ebike', form_factor: 'bicycle', propulsion_type: 'electric_assist' },
        ],
      },
    }),
  ]);
  const info = (t: number, n: number): string =>
    JSON.stringify({
      last_updated: T0 + t * 60,
      data: {
        stations: Array.from({ length: n }, (_, i) => ({
          station_id: `st-${i}`,
          name: `Gare de l’Est — quai ${i}`,
          lat: 48.87 + i / 1000,
          lon: 2.35,
          capacity: i === 3 ? 'lots' : 20,
        })),
      },
    });
  await writeFeed('station_information', [info(0, 30), info(25, 31)]);
  const status: string[] = [];
  for (let t = 0; t < 60; t++) {
    const stations = Array.from({ length: 30 + (t > 30 ? 1 : 0) }, (_, i) => station(i, t));
    if (t === 10) stations.push({ station_id: 'st-bad', num_bikes_available: -3 });
    if (t === 11) stations.push({ ...station(4, t) }); // duplicate id: both copies dropped
    if (t === 12) stations[7] = { ...stations[7], stationCode: 16107 };
    status.push(JSON.stringify({ last_updated: T0 + t * 60, ttl: 60, version: '2.3', data: { stations } }));
    if (t === 20) status.push('{"last_updated": oops');
    if (t === 21) status.push(JSON.stringify({ last_updated: T0 + t * 60 + 1, data: { nothing: [] } }));
  }
  await writeFeed('station_status', status);
}

async function readAll(
  thread: boolean,
  paths = [dir],
): Promise<{ items: ReplayItem[]; errors: ArchiveError[]; stats: ReturnType<typeof emptyArchiveStats> }> {
  const errors: ArchiveError[] = [];
  const stats = emptyArchiveStats();
  const items: ReplayItem[] = [];
  for await (const item of readReplayItems(paths, { thread, stats, onError: (e) => errors.push(e) }))
    items.push(item);
  return { items, errors, stats };
}

describe('readReplayItems', () => {
  it('gives the same items, errors and counters on a reader thread as on the calling thread', async () => {
    await writeArchive();
    const here = await readAll(false);
    const threaded = await readAll(true);
    expect(threaded.items).toEqual(here.items);
    expect(threaded.errors).toEqual(here.errors);
    expect(threaded.stats).toEqual(here.stats);

    // The archive has what the comparison must cover.
    const feeds = new Set(here.items.map((i) => i.feed));
    expect([...feeds].sort()).toEqual([
      'station_information',
      'station_status',
      'system_information',
      'vehicle_types',
    ]);
    const statuses = here.items.filter((i) => i.feed === 'station_status');
    expect(statuses).toHaveLength(61);
    expect(statuses.filter((i) => !i.status.ok)).toHaveLength(1);
    expect(statuses.some((i) => i.status.ok && i.status.rejections.length > 0)).toBe(true);
    const docs = statuses.flatMap((i) => (i.status.ok ? [i.status.doc] : []));
    expect(docs.some((d) => d.stations.some((s) => s.bikes.electric > 0 && s.bikes.mechanical > 0))).toBe(
      true,
    );
    expect(docs.some((d) => d.stations.some((s) => s.code === '16107'))).toBe(true);
    expect(docs.some((d) => d.stations.some((s) => s.lastReportedSec === null))).toBe(true);
    expect(here.errors).toHaveLength(1);
    expect(here.stats).toMatchObject({ files: 4, badLines: 1 });

    // And the raw documents are those readArchive reads (the parse happens where they are read).
    const raw = [];
    for await (const item of readArchive([dir])) raw.push([item.feed, item.timeSec]);
    expect(here.items.map((i) => [i.feed, i.timeSec])).toEqual(raw);
  });

  it('fails the first read with readArchive’s message when a path is missing', async () => {
    const missing = path.join(dir, 'nowhere');
    const direct = readArchive([missing]).next();
    await expect(direct).rejects.toThrow(/nowhere/);
    const message = await direct.catch((e: Error) => e.message);
    await expect(readAll(true, [missing])).rejects.toThrow(message);
  });

  it('stops the reader thread when the consumer stops early', async () => {
    await writeArchive();
    let n = 0;
    for await (const item of readReplayItems([dir], { thread: true })) {
      expect(item.timeSec).toBeGreaterThanOrEqual(T0);
      if (++n === 5) break;
    }
    expect(n).toBe(5);
    // A second full read still works (nothing left locked or half-read).
    expect((await readAll(true)).items.length).toBeGreaterThan(60);
  });
});

describe('status codec', () => {
  it('round-trips documents across batches, with new strings only sent once', () => {
    const doc = (t: number, ids: string[]): StatusDocument => ({
      lastUpdatedSec: T0 + t,
      ttlSec: t % 2 === 0 ? 60 : null,
      version: t % 3 === 0 ? null : '1.1',
      stations: ids.map((id, i) => ({
        stationId: id,
        code: i % 2 === 0 ? null : `code-${id}`,
        bikes: { mechanical: i, electric: 2 * i + t, other: i % 3 },
        bikesDisabled: i % 4,
        docksAvailable: 30 - i,
        docksDisabled: i % 2,
        isInstalled: i % 2 === 0,
        isRenting: i % 3 === 0,
        isReturning: i % 5 !== 0,
        lastReportedSec: i === 1 ? null : T0 + t - i + 0.5,
      })),
    });
    const enc = new StatusEncoder();
    const dec = new StatusDecoder();
    const batches = [
      [doc(0, ['a', 'b', 'c']), doc(60, ['b', 'c', 'a', 'd'])],
      [doc(120, ['d', 'e']), doc(180, [])],
    ];
    for (const docs of batches) {
      const encoded = docs.map((d) => enc.encode(d));
      const batch = enc.flush();
      expect(new Set(batch.newKeys).size).toBe(batch.newKeys.length);
      dec.addKeys(batch.newKeys);
      expect(encoded.map((e) => dec.decode(batch.numbers, e))).toEqual(docs);
    }
    expect(enc.pendingBytes).toBe(0);
  });

  it('refuses a key it was never sent', () => {
    const enc = new StatusEncoder();
    const e = enc.encode({
      lastUpdatedSec: T0,
      ttlSec: null,
      version: null,
      stations: [
        {
          stationId: 'x',
          code: null,
          bikes: { mechanical: 1, electric: 0, other: 0 },
          bikesDisabled: 0,
          docksAvailable: 1,
          docksDisabled: 0,
          isInstalled: true,
          isRenting: true,
          isReturning: true,
          lastReportedSec: null,
        },
      ],
    });
    const { numbers } = enc.flush();
    expect(() => new StatusDecoder().decode(numbers, e)).toThrow(/unknown string key 0/);
  });
});
