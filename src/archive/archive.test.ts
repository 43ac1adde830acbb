import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ArchiveWriter,
  emptyArchiveStats,
  readArchive,
  type ArchiveError,
  type ArchiveItem,
} from './index.js';

const parse = (raw: string): unknown => JSON.parse(raw);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const bayWheels = path.join(shared, 'data/baywheels-2023-04');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dockwatch-archive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY1 = Date.UTC(2024, 2, 9, 23, 50) / 1000; // 2024-03-09 23:50 UTC
function statusDoc(timeSec: number, bikes: number): string {
  return JSON.stringify({
    last_updated: timeSec,
    ttl: 60,
    data: { stations: [{ station_id: 'a', num_bikes_available: bikes, name: 'Gare de l’Est — quai' }] },
  });
}
function infoDoc(timeSec: number, n: number): string {
  return JSON.stringify({
    last_updated: timeSec,
    ttl: 3600,
    data: { stations: [{ station_id: 'a', capacity: n }] },
  });
}

async function readAll(
  paths: string[],
  errors: ArchiveError[] = [],
  stats = emptyArchiveStats(),
): Promise<ArchiveItem[]> {
  const items: ArchiveItem[] = [];
  for await (const item of readArchive(paths, { onError: (e) => errors.push(e), stats })) items.push(item);
  return items;
}

function lines(n: number, t0: number): string[] {
  return Array.from({ length: n }, (_, i) => statusDoc(t0 + i * 60, i % 17));
}

describe('ArchiveWriter + readArchive', () => {
  it('rotates at the UTC day of the document and reads everything back in time order', async () => {
    const w = new ArchiveWriter(dir);
    const written: { feed: string; raw: string; t: number }[] = [];
    const put = async (
      feed: 'station_status' | 'station_information',
      raw: string,
      t: number,
    ): Promise<void> => {
      written.push({ feed, raw, t });
      await w.write(feed, raw, t);
    };
    await put('station_information', infoDoc(DAY1 - 100, 20), DAY1 - 100);
    for (let i = 0; i < 20; i++) {
      const t = DAY1 + i * 60; // crosses midnight UTC after 10 documents
      await put('station_status', statusDoc(t, i), t);
      if (i === 12) await put('station_information', infoDoc(t + 30, 21), t + 30);
      if (i === 5) await put('station_information', infoDoc(t, 22), t); // same time as a status: read first
    }
    await w.close();

    expect((await readdir(dir)).sort()).toEqual([
      'station_information.2024-03-09.jsonl.br',
      'station_information.2024-03-10.jsonl.br',
      'station_status.2024-03-09.jsonl.br',
      'station_status.2024-03-10.jsonl.br',
    ]);
    const errors: ArchiveError[] = [];
    const stats = emptyArchiveStats();
    const items = await readAll([dir], errors, stats);
    expect(errors).toEqual([]);
    const rank = (feed: string): number => (feed === 'station_status' ? 1 : 0);
    const expected = [...written].sort((a, b) => a.t - b.t || rank(a.feed) - rank(b.feed));
    expect(expected.map((e) => e.feed)).not.toEqual(written.map((e) => e.feed)); // the merge has work to do
    expect(items.map((i) => [i.feed, i.timeSec, i.doc])).toEqual(
      expected.map((e): unknown[] => [e.feed, e.t, parse(e.raw)]),
    );
    expect(stats).toMatchObject({ files: 4, lines: 23, badLines: 0, corruptFiles: 0 });
    // Progress: monotonic, ends at the total compressed size.
    for (let i = 1; i < items.length; i++)
      expect(items[i]!.bytes).toBeGreaterThanOrEqual(items[i - 1]!.bytes);
    expect(items.at(-1)!.bytes).toBeLessThanOrEqual(stats.totalBytes);
  });

  it('loses nothing written before a crash: every flushed line is readable without close()', async () => {
    const w = new ArchiveWriter(dir);
    const raws = lines(30, DAY1 - 3600);
    for (const raw of raws) await w.write('station_status', raw, DAY1 - 3600);
    // Snapshot the file as a killed process would leave it: no brotli end marker.
    const crashed = path.join(dir, 'crash');
    await mkdir(crashed);
    await copyFile(
      path.join(dir, 'station_status.2024-03-09.jsonl.br'),
      path.join(crashed, 'station_status.jsonl.br'),
    );
    await w.close();

    const errors: ArchiveError[] = [];
    const items = await readAll([crashed], errors);
    expect(items.map((i) => i.doc)).toEqual(raws.map(parse));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'corrupt_file', line: null });
    expect(errors[0]!.message).toMatch(/cannot decompress past line 30/);
  });

  it('opens a new part when the day file exists (restart) and reads parts in order', async () => {
    const first = new ArchiveWriter(dir);
    await first.write('station_status', statusDoc(DAY1, 1), DAY1);
    await first.close();
    const second = new ArchiveWriter(dir);
    await second.write('station_status', statusDoc(DAY1 + 60, 2), DAY1 + 60);
    await second.write('station_status', statusDoc(DAY1 + 86_400, 3), DAY1 + 86_400);
    await second.close();
    expect((await readdir(dir)).sort()).toEqual([
      'station_status.2024-03-09.1.jsonl.br',
      'station_status.2024-03-09.jsonl.br',
      'station_status.2024-03-10.jsonl.br',
    ]);
    const items = await readAll([dir]);
    expect(items.map((i) => i.timeSec)).toEqual([DAY1, DAY1 + 60, DAY1 + 86_400]);
  });

  it('writes a pretty-printed body as one line, and never moves back to a past day', async () => {
    const w = new ArchiveWriter(dir);
    await w.write('station_status', statusDoc(DAY1 + 86_400, 1), DAY1 + 86_400);
    const pretty = JSON.stringify(JSON.parse(infoDoc(DAY1 - 86_400 * 3, 9)), null, 2);
    await w.write('station_information', pretty, DAY1 - 86_400 * 3);
    await w.write('station_status', statusDoc(DAY1 + 86_400 + 60, 2), DAY1); // late day: stays in current file
    await w.close();
    expect((await readdir(dir)).sort()).toEqual([
      'station_information.2024-03-06.jsonl.br',
      'station_status.2024-03-10.jsonl.br',
    ]);
    const items = await readAll([dir]);
    expect(items.map((i) => i.feed)).toEqual(['station_information', 'station_status', 'station_status']);
    expect(items[0]!.doc).toEqual(JSON.parse(pretty));
  });

  it('rejects writes after close', async () => {
    const w = new ArchiveWriter(dir);
    await w.close();
    await expect(w.write('station_status', statusDoc(DAY1, 1), DAY1)).rejects.toThrow(/closed/);
  });
});

describe('readArchive on damaged input', () => {
  it('keeps the good lines of a truncated brotli file and reports it', async () => {
    const raws = lines(400, DAY1);
    const full = brotliCompressSync(Buffer.from(raws.join('\n') + '\n'));
    const file = path.join(dir, 'station_status.jsonl.br');
    await writeFile(file, full.subarray(0, Math.floor(full.length * 0.6)));
    const errors: ArchiveError[] = [];
    const stats = emptyArchiveStats();
    const items = await readAll([file], errors, stats);
    expect(items.length).toBeGreaterThan(50);
    expect(items.length).toBeLessThan(400);
    expect(items.map((i) => i.doc)).toEqual(raws.slice(0, items.length).map(parse));
    expect(errors.some((e) => e.kind === 'corrupt_file' && e.file === file)).toBe(true);
    expect(stats.corruptFiles).toBe(1);
    // The cut-off last line, if any, is counted as bad — never silently dropped.
    expect(stats.lines).toBe(items.length + stats.badLines);
  });

  it('keeps the lines before garbage in the middle of a file, then goes on with the other feeds', async () => {
    const raws = lines(200, DAY1);
    const good = brotliCompressSync(Buffer.from(raws.join('\n') + '\n'));
    const prefix = good.subarray(0, good.length >> 1);
    const damaged = Buffer.concat([prefix, Buffer.alloc(4096, 0xa5)]);
    await writeFile(path.join(dir, 'station_status.jsonl.br'), damaged);
    await writeFile(
      path.join(dir, 'station_information.jsonl.br'),
      brotliCompressSync(Buffer.from(infoDoc(DAY1 + 99_999, 3) + '\n')),
    );
    // Lines wholly decodable from the undamaged prefix. (Brotli has no checksum: the garbage after it
    // may still decode to a wrong line or two before the decoder notices, nothing we can tell apart.)
    const intact =
      brotliDecompressSync(prefix, { finishFlush: constants.BROTLI_OPERATION_FLUSH })
        .toString('utf8')
        .split('\n').length - 1;
    expect(intact).toBeGreaterThan(10);
    const errors: ArchiveError[] = [];
    const items = await readAll([dir], errors);
    const status = items.filter((i) => i.feed === 'station_status');
    expect(status.length).toBeGreaterThanOrEqual(intact);
    expect(status.slice(0, intact).map((i) => i.doc)).toEqual(raws.slice(0, intact).map(parse));
    expect(items.at(-1)!.feed).toBe('station_information');
    expect(errors.filter((e) => e.kind === 'corrupt_file')).toHaveLength(1);
  });

  it('counts and skips a line that is not JSON', async () => {
    const raws = lines(5, DAY1);
    const body = [raws[0], raws[1], '{"last_updated": 17, "data": {', raws[2], '', raws[3], raws[4]].join(
      '\n',
    );
    await writeFile(
      path.join(dir, 'station_status.2024-03-09.jsonl.br'),
      brotliCompressSync(Buffer.from(body)),
    );
    const errors: ArchiveError[] = [];
    const stats = emptyArchiveStats();
    const items = await readAll([dir], errors, stats);
    expect(items.map((i) => i.doc)).toEqual(raws.map(parse));
    expect(stats).toMatchObject({ lines: 6, badLines: 1, corruptFiles: 0 });
    expect(errors).toEqual([
      expect.objectContaining({
        kind: 'bad_line',
        line: 3,
        message: expect.stringMatching(/line 3 is not JSON/) as string,
      }),
    ]);
  });

  it('decodes UTF-8 characters cut by the reader’s chunk boundaries, and ASCII lines around them', async () => {
    // Lines of a few MB of 2-, 3- and 4-byte characters: the 1 MB decompressed chunks end inside
    // characters, and ASCII-only chunks (the fast path) alternate with them.
    const name = 'é€😀x'.repeat(300_000) + 'ü';
    const raws = [
      statusDoc(DAY1, 1),
      JSON.stringify({ last_updated: DAY1 + 60, data: { stations: [{ station_id: 'a', name }] } }),
      statusDoc(DAY1 + 120, 2),
      JSON.stringify({
        last_updated: DAY1 + 180,
        data: { stations: [{ station_id: 'b', name: 'x'.repeat(3_000_000) + '€' }] },
      }),
    ];
    const file = path.join(dir, 'station_status.jsonl.br');
    await writeFile(file, brotliCompressSync(Buffer.from(raws.join('\n'), 'utf8')));
    const errors: ArchiveError[] = [];
    const items = await readAll([file], errors);
    expect(errors).toEqual([]);
    expect(items.map((i) => i.doc)).toEqual(raws.map(parse));
  });

  it('joins lines cut across chunks whatever their length order, in one buffer reused line after line', async () => {
    // The reader's 256 kB chunks cut most of these lines; a long line followed by shorter ones
    // checks that the reused join buffer never leaks bytes of the previous line, and the 5 MB
    // one takes the path for lines too long to keep a buffer for.
    const sizes = [600_000, 90_000, 400_000, 5_000_000, 300_000, 1_000, 270_000];
    const raws = sizes.map((size, i) =>
      JSON.stringify({
        last_updated: DAY1 + 60 * i,
        data: { stations: [{ station_id: `s${i}`, name: String.fromCharCode(97 + i).repeat(size) }] },
      }),
    );
    raws.splice(3, 0, '{"last_updated": 1, "data": ' + 'z'.repeat(700_000));
    const file = path.join(dir, 'station_status.jsonl.br');
    await writeFile(file, brotliCompressSync(Buffer.from(raws.join('\n'))));
    const errors: ArchiveError[] = [];
    const items = await readAll([file], errors);
    expect(errors.map((e) => [e.kind, e.line])).toEqual([['bad_line', 4]]);
    expect(items.map((i) => i.doc)).toEqual(raws.filter((_, i) => i !== 3).map(parse));
  });

  it('throws a clear error for a file whose name does not say its feed', async () => {
    const file = path.join(dir, 'dump.jsonl.br');
    await writeFile(file, brotliCompressSync(Buffer.from(statusDoc(DAY1, 1))));
    await expect(readAll([file])).rejects.toThrow(/cannot tell which feed/);
    await expect(readAll([path.join(dir, 'nope')])).rejects.toThrow(/ENOENT/);
  });
});

describe.skipIf(!existsSync(bayWheels))('readArchive on the Bay Wheels recording', () => {
  if (!existsSync(bayWheels)) console.log(`skipped: ${bayWheels} not found (shared data absent)`);

  it('yields status documents in increasing time with station_information interleaved', async () => {
    const items: ArchiveItem[] = [];
    const stats = emptyArchiveStats();
    for await (const item of readArchive([bayWheels], { stats })) {
      items.push(item);
      if (items.length === 600) break; // breaking out must release the files
    }
    expect(items[0]!.feed).toBe('system_information');
    expect(items[1]!.feed).toBe('station_information');
    for (let i = 1; i < items.length; i++)
      expect(items[i]!.timeSec).toBeGreaterThanOrEqual(items[i - 1]!.timeSec);
    const infoAt = items.map((it, i) => (it.feed === 'station_information' ? i : -1)).filter((i) => i > 1);
    expect(infoAt.length).toBeGreaterThan(5); // later catalogues arrive between status documents
    for (const i of infoAt) {
      expect(items[i - 1]!.timeSec).toBeLessThanOrEqual(items[i]!.timeSec);
      expect(items[i + 1]!.timeSec).toBeGreaterThanOrEqual(items[i]!.timeSec);
    }
    const status = items.filter((i) => i.feed === 'station_status');
    expect((status[0]!.doc as { data: { stations: unknown[] } }).data.stations.length).toBeGreaterThan(400);
    expect(stats.badLines).toBe(0);
    expect(items.at(-1)!.bytes).toBeGreaterThan(0);
    expect(items.at(-1)!.bytes).toBeLessThan(stats.totalBytes);
  });
});

describe('ArchiveWriter closeOnSignals', () => {
  it('finishes its files on SIGINT, then lets the signal end the process', async () => {
    const { spawn } = await import('node:child_process');
    const writerUrl = new URL('./writer.ts', import.meta.url).href;
    const script = `
      import { ArchiveWriter } from ${JSON.stringify(writerUrl)};
      const w = new ArchiveWriter(${JSON.stringify(dir)}, { closeOnSignals: ['SIGINT'] });
      for (let i = 0; i < 3; i++) await w.write('station_status', JSON.stringify({ last_updated: ${DAY1} + i }), ${DAY1} + i);
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()),
    );
    child.kill('SIGINT');
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' });
    const errors: ArchiveError[] = [];
    const items = await readAll([dir], errors);
    expect(errors).toEqual([]); // a crash would have left no brotli end marker
    expect(items.map((i) => i.timeSec)).toEqual([DAY1, DAY1 + 1, DAY1 + 2]);
  });
});
