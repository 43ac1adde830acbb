/**
 * Unparsed status lines (readArchive's `rawStatus`, used by the replay's reader thread to hand
 * JSON.parse to the other thread): the time read from a line's tail must be documentTimeSec's,
 * and a consumer that parses the raw lines itself must see exactly what readArchive gives without
 * them: same documents, times and order, same errors in the same order, same counters.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanDocumentTimeSec } from './scan-time.js';
import {
  badLineError,
  documentTimeSec,
  emptyArchiveStats,
  parseLine,
  readArchive,
  type ArchiveError,
} from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dockwatch-raw-lines-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const scan = (s: string): number => scanDocumentTimeSec(Buffer.from(s, 'utf8'));

describe('scanDocumentTimeSec', () => {
  it('reads documentTimeSec from the tail of valid JSON, or gives up', () => {
    const docs = [
      '{"data":{"stations":[{"a":1}]},"last_updated":1680308113,"ttl":5}',
      '{"data":{"stations":[]},"last_updated":1680308113}',
      '{ "data" : [1,2] , "last_updated" : 1680308113.5 , "version" : "2.3" }\r',
      '{"data":{},"last_updated":1680308113000,"x":"a \\" b","y":"c\\\\"}',
      '{"last_updated":5,"data":{},"last_updated":7}',
      '{"last_updated":7,"data":{}}',
      '{"data":{},"last_updated":null,"lastUpdatedOther":9}',
      '{"data":{},"last_updated":"2024-03-10T00:00:00Z"}',
      '{"data":{},"last_updated":true}',
      '{"data":{},"last_updated":1e400}',
      '{"data":{},"last_updated":-0}',
      '{"data":{},"last\\u005fupdated":12}',
      '{"data":{},"ttl":60}',
      '{"ttl":60,"last_updated":12}',
      '{"data":{"last_updated":3},"ttl":60}',
      '[1,{"last_updated":3}]',
      '{}',
    ];
    for (const d of docs) {
      const t = scan(d);
      // Either it gives up, or it says exactly what parsing says.
      if (t === t) expect([d, t]).toEqual([d, documentTimeSec(JSON.parse(d))]);
    }
    expect(scan(docs[0]!)).toBe(1680308113);
    expect(scan(docs[2]!)).toBe(1680308113.5);
    expect(scan(docs[3]!)).toBe(1680308113);
    expect(scan(docs[4]!)).toBe(7);
    expect(scan(docs[13]!)).toBe(12);
    expect(scan(docs[5]!)).toBeNaN(); // before a nested value: not reachable from the tail
    expect(scan(docs[6]!)).toBeNaN();
    expect(scan(docs[11]!)).toBeNaN();
    expect(scan(docs[12]!)).toBeNaN();
    expect(scan(docs[14]!)).toBeNaN();
  });
});

const T0 = 1_700_000_000;
const status = (t: number, n = 1): string =>
  JSON.stringify({ data: { stations: [{ station_id: 'a', num_bikes_available: n }] }, last_updated: t });
const info = (t: number): string => JSON.stringify({ data: { stations: [] }, last_updated: t });

async function writeFeed(feed: string, lines: string[]): Promise<void> {
  await writeFile(path.join(dir, `${feed}.jsonl.br`), brotliCompressSync(Buffer.from(lines.join('\n'))));
}

/** readArchive, with raw lines (when `rawStatus` says so) parsed by the consumer. */
async function read(rawStatus?: () => boolean): Promise<{
  items: [string, number, unknown][];
  errors: ArchiveError[];
  stats: ReturnType<typeof emptyArchiveStats>;
  raw: number;
}> {
  const errors: ArchiveError[] = [];
  const stats = emptyArchiveStats();
  const items: [string, number, unknown][] = [];
  let raw = 0;
  const opts = { stats, onError: (e: ArchiveError) => errors.push(e), ...(rawStatus ? { rawStatus } : {}) };
  for await (const item of readArchive([dir], opts)) {
    if (item.raw === undefined) {
      items.push([item.feed, item.timeSec, item.doc]);
      continue;
    }
    raw++;
    const { text, file, line, where } = item.raw;
    try {
      items.push([item.feed, item.timeSec, parseLine(text)]);
    } catch (err) {
      stats.badLines++;
      errors.push(badLineError(file, line, where, err));
    }
  }
  return { items, errors, stats, raw };
}

describe('readArchive with rawStatus', () => {
  it('gives what readArchive gives, bad lines with readable tails and untimed documents included', async () => {
    await writeFeed('station_information', [info(T0 + 90), info(T0 + 250), info(T0 + 400), info(T0 + 1000)]);
    await writeFeed('station_status', [
      status(T0),
      status(T0 + 60),
      '{"data": oops,"last_updated":1700000300}', // bad, its tail says later than the next line
      status(T0 + 120),
      status(T0 + 180),
      '{"data": oops,"last_updated":1700000200}', // bad, then an untimed document
      JSON.stringify({ data: { stations: [] } }), // untimed: takes T0 + 180, not the bad line's time
      status(T0 + 240),
      status(T0 + 300),
      '{"data": oops,"last_updated":1700000999}',
      '{"data": oops,"last_updated":1700000998}',
      JSON.stringify({ data: { stations: [] } }),
      status(T0 + 360),
      ...Array.from({ length: 12 }, (_, i) => status(T0 + 420 + i * 60, i)), // longer than the unverified bound
      JSON.stringify({ data: { stations: [] } }),
      '{"data":[1,2],"last_updated":1700002000',
    ]);
    const plain = await read();
    expect(plain.errors).toHaveLength(5);
    expect(plain.stats.untimed).toBe(3);
    let n = 0;
    for (const rawStatus of [() => true, () => n++ % 2 === 0, () => n++ % 3 !== 0]) {
      const raw = await read(rawStatus);
      expect(raw.raw).toBeGreaterThan(0);
      expect(raw.items.map((i) => i.slice(0, 2).join(' '))).toEqual(
        plain.items.map((i) => i.slice(0, 2).join(' ')),
      );
      expect(raw.items).toEqual(plain.items);
      expect(raw.errors).toEqual(plain.errors);
      expect(raw.stats).toEqual(plain.stats);
    }
  });
});
