/**
 * The start of a recorded archive, two ways: as a smaller archive in a temporary folder (for the
 * embedded `replay`), and as a live GBFS feed on 127.0.0.1 that serves the recorded documents one
 * station_status at a time (for the fetch function): station_information and system_information
 * are those in force at the current document's time, as a live feed would have served them.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { readArchive, type ArchiveItem } from '../../src/archive/index.js';

export interface ArchiveSlice {
  items: ArchiveItem[];
  statusTimes: number[];
}

/** Documents of the first `days` of the archive, in archive order. */
export async function readSlice(archive: string, days: number): Promise<ArchiveSlice> {
  const items: ArchiveItem[] = [];
  let endSec: number | null = null;
  for await (const item of readArchive([archive])) {
    if (item.feed !== 'station_status') {
      if (endSec === null || item.timeSec <= endSec) items.push(item);
      continue;
    }
    endSec ??= item.timeSec + days * 86_400;
    if (item.timeSec > endSec) break;
    items.push(item);
  }
  return { items, statusTimes: items.filter((i) => i.feed === 'station_status').map((i) => i.timeSec) };
}

/** The slice as an archive folder (`<feed>.jsonl.br`), for `replay`. */
export function writeSlice(slice: ArchiveSlice, dir: string): void {
  const byFeed = new Map<string, string[]>();
  for (const item of slice.items) {
    const lines = byFeed.get(item.feed) ?? [];
    lines.push(JSON.stringify(item.doc));
    byFeed.set(item.feed, lines);
  }
  for (const [feed, lines] of byFeed)
    writeFileSync(path.join(dir, `${feed}.jsonl.br`), brotliCompressSync(lines.join('\n') + '\n'));
}

export interface ArchiveFeed {
  url: string;
  /** Serve status document `i` (and the catalogue of its time) from now on. */
  moveTo(i: number): void;
  /** Document time of the current status document (the function's clock in the test). */
  timeSec(): number;
  close(): Promise<void>;
}

export async function serveSlice(slice: ArchiveSlice): Promise<ArchiveFeed> {
  const status = slice.items.filter((i) => i.feed === 'station_status');
  let current = 0;
  /** The newest document of `feed` not after the current status document (else its first one). */
  const latest = (feed: string): unknown => {
    const t = status[current]!.timeSec;
    let found: unknown = null;
    for (const item of slice.items) {
      if (item.feed !== feed) continue;
      if (item.timeSec > t && found !== null) break;
      found = item.doc;
    }
    return found;
  };
  const server: Server = createServer((req, res) => {
    const base = `http://${req.headers.host ?? ''}`;
    const send = (body: unknown): void => {
      if (body === null) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    switch (req.url) {
      case '/gbfs.json':
        return send({
          last_updated: status[current]!.timeSec,
          ttl: 60,
          data: {
            en: {
              feeds: ['system_information', 'station_information', 'station_status'].map((name) => ({
                name,
                url: `${base}/${name}.json`,
              })),
            },
          },
        });
      case '/station_status.json':
        return send(status[current]!.doc);
      case '/station_information.json':
        return send(latest('station_information'));
      case '/system_information.json':
        return send(latest('system_information'));
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    moveTo: (i) => (current = i),
    timeSec: () => status[current]!.timeSec,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
