import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyArchiveStats, readArchive, type ArchiveItem } from '../archive/index.js';
import { silentLogger } from '../log/index.js';
import { runRecord } from './record.js';

const parse = (raw: string): unknown => JSON.parse(raw);

let server: Server | null = null;
let dir = '';
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(null));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('runRecord', () => {
  it('records what it polls into an archive readArchive reads back', async () => {
    // Document times in the past (the watcher refuses documents from the future), one minute apart.
    const t0Sec = Math.floor(Date.now() / 1000) - 3600;
    const served: Record<string, string[]> = {
      station_status: [],
      station_information: [],
      system_information: [],
    };
    let statusRequests = 0;
    server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
      let body: string;
      if (req.url === '/gbfs.json') {
        const feeds = ['system_information', 'station_information', 'station_status'].map((name) => ({
          name,
          url: `${base}/${name}.json`,
        }));
        body = JSON.stringify({ last_updated: t0Sec, ttl: 60, version: '2.3', data: { en: { feeds } } });
      } else if (req.url === '/system_information.json') {
        body = JSON.stringify({
          last_updated: t0Sec,
          ttl: 60,
          data: { system_id: 's', name: 'S', timezone: 'Europe/Paris' },
        });
        served.system_information!.push(body);
      } else if (req.url === '/station_information.json') {
        const stations = [{ station_id: '1', name: 'Bastille', lat: 48.853, lon: 2.369, capacity: 30 }];
        body = JSON.stringify({ last_updated: t0Sec, ttl: 3600, data: { stations } });
        served.station_information!.push(body);
      } else if (req.url === '/station_status.json') {
        const t = t0Sec + 60 * statusRequests++;
        const stations = [
          {
            station_id: '1',
            num_bikes_available: statusRequests % 5,
            num_docks_available: 10,
            is_installed: 1,
            is_renting: 1,
            is_returning: 1,
            last_reported: t,
          },
        ];
        body = JSON.stringify({ last_updated: t, ttl: 60, data: { stations } });
        served.station_status!.push(body);
      } else {
        return res.writeHead(404).end();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    dir = await mkdtemp(path.join(os.tmpdir(), 'dockwatch-record-'));
    const outDir = path.join(dir, 'archive');

    const controller = new AbortController();
    const recording = runRecord({
      feedUrl: `http://127.0.0.1:${port}/gbfs.json`,
      outDir,
      pollIntervalMs: 40,
      logger: silentLogger,
      signal: controller.signal,
    });
    const deadline = Date.now() + 10_000;
    while (statusRequests < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await recording;

    const files = await readdir(outDir);
    expect(files.filter((f) => f.startsWith('station_status.')).length).toBeGreaterThanOrEqual(1);
    const stats = emptyArchiveStats();
    const items: ArchiveItem[] = [];
    for await (const item of readArchive([outDir], { stats })) items.push(item);
    expect(stats).toMatchObject({ badLines: 0, corruptFiles: 0 }); // closed cleanly: brotli end marker present
    const docs = (feed: string): unknown[] => items.filter((i) => i.feed === feed).map((i) => i.doc);
    expect(docs('system_information')).toEqual([JSON.parse(served.system_information![0]!)]);
    expect(docs('station_information')).toEqual([JSON.parse(served.station_information![0]!)]);
    // Every status body served was new (time advanced), so each is in the archive, in order — but
    // the last may have been in flight when the recording stopped.
    const status = docs('station_status');
    expect(status.length).toBeGreaterThanOrEqual(Math.max(3, served.station_status!.length - 1));
    expect(status).toEqual(served.station_status!.slice(0, status.length).map(parse));
  });
});
