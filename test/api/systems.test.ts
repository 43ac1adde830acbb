/**
 * Many systems in one store: /api/v1/systems/:id/… serves each one with the same routes as the
 * default system's unprefixed /api/v1/… (exports included), and so do /gbfs/systems/:id/… and
 * /feeds/systems/:id/… for the corrected GBFS and the Atom feeds; /readyz names each system's
 * freshness. Over a real store (SQLite, and PostgreSQL when it is up) and real HTTP. The API is started as `serve` starts it (refreshed from the store: no pipeline
 * in the process), so writes to the store show up without any LiveBus publish.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, createLiveBus } from '../../src/api/index.js';
import {
  stationsFromColumns,
  type StationColumns,
  type StationListItem,
} from '../../src/api/station-table.js';
import type { StationInfo } from '../../src/feed/model.js';
import { silentLogger } from '../../src/log/index.js';
import { GBFS_FILES } from '../../src/publish/index.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import { dropSchema, freshPgStore, pgUp, uniqueSchema } from '../storage/postgres-fixture.js';
import { readSse } from './helpers.js';
import { commitDocument, lock, seedSystem, T0 } from './two-systems.js';

interface StationsBody {
  system: string;
  timeSec: number;
  count: number;
  counts: Record<string, number>;
  /** One array per property (src/api/station-table.ts). */
  stations: StationColumns;
}

const stationsOf = (body: StationsBody): StationListItem[] => stationsFromColumns(body.stations);

interface Backend {
  name: string;
  available: boolean;
  open(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    available: true,
    open: () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'dockwatch-systems-'));
      const store = openSqliteStore({ path: path.join(dir, 'db.sqlite') });
      const cleanup = (): Promise<void> => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
      return Promise.resolve({ store, cleanup });
    },
  },
  {
    name: 'postgres',
    available: pgUp,
    open: () => {
      const schema = uniqueSchema('api');
      return Promise.resolve({ store: freshPgStore(schema), cleanup: () => dropSchema(schema) });
    },
  },
];

for (const backend of backends) {
  describe.skipIf(!backend.available)(`API v1 with two systems in one ${backend.name} store`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let app: FastifyInstance;
    let base: string;
    let parisInfos: StationInfo[];
    let sfInfos: StationInfo[];
    const get = (p: string): Promise<Response> => fetch(base + p);
    const json = async <T>(p: string): Promise<T> => {
      const res = await get(p);
      expect(res.status, p).toBe(200);
      return (await res.json()) as T;
    };

    beforeAll(async () => {
      ({ store, cleanup } = await backend.open());
      await store.migrate();
      parisInfos = await seedSystem(store, 'paris', 'Europe/Paris', 3, 48.85, T0);
      sfInfos = await seedSystem(store, 'sf', 'America/Los_Angeles', 2, 37.77, T0 + 30);
      app = await createApiServer({
        store,
        systemId: 'paris',
        timezone: 'Europe/Paris',
        pollIntervalSec: 60,
        live: createLiveBus(),
        logger: silentLogger,
        refreshFromStore: true,
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      if (addr === null || typeof addr === 'string') throw new Error('no address');
      base = `http://127.0.0.1:${addr.port}`;
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
      await cleanup?.();
    });

    it('GET /api/v1/systems lists both; /api/v1/systems/:id gives one; an unknown id is a JSON 404', async () => {
      const list = await json<{
        systems: { id: string; name: string; timezone: string; watched: boolean }[];
      }>('/api/v1/systems');
      expect(list.systems.map((s) => [s.id, s.timezone, s.watched])).toEqual([
        ['paris', 'Europe/Paris', true],
        ['sf', 'America/Los_Angeles', false],
      ]);
      const one = await json<{ id: string; name: string; staleSec: number }>('/api/v1/systems/sf');
      expect(one).toMatchObject({ id: 'sf', name: 'System sf' });

      for (const p of [
        '/api/v1/systems/nowhere',
        '/api/v1/systems/nowhere/stations',
        '/api/v1/systems/nowhere/live',
      ]) {
        const res = await get(p);
        expect(res.status, p).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/application\/json/);
        expect(await res.json()).toMatchObject({ code: 'system_not_found', param: 'system' });
      }
    });

    it('each system has its own stations; the unprefixed routes stay the default system’s', async () => {
      const sf = await json<StationsBody>('/api/v1/systems/sf/stations');
      expect(sf.system).toBe('sf');
      expect(sf.timeSec).toBe(T0 + 30);
      expect(stationsOf(sf).map((s) => [s.code, s.bikes.mechanical])).toEqual([
        ['SF1', 1],
        ['SF2', 2],
      ]);
      const paris = await json<StationsBody>('/api/v1/systems/paris/stations');
      expect(stationsOf(paris).map((s) => s.code)).toEqual(['PARIS1', 'PARIS2', 'PARIS3']);
      const unprefixed = await json<StationsBody>('/api/v1/stations');
      expect(unprefixed).toEqual(paris);

      const geo = await json<{ features: { id: string; geometry: { coordinates: number[] } }[] }>(
        '/api/v1/systems/sf/stations.geojson',
      );
      expect(geo.features.map((f) => f.id)).toEqual(['SF1', 'SF2']);
      expect(geo.features[0]!.geometry.coordinates[1]).toBeCloseTo(37.771, 3);

      const one = await json<{ station: { code: string; name: string } }>('/api/v1/systems/sf/stations/SF2');
      expect(one.station).toMatchObject({ code: 'SF2', name: 'sf station 2' });
      // A code of the other system is not found here.
      const wrong = await get('/api/v1/systems/sf/stations/PARIS1');
      expect(wrong.status).toBe(404);
      expect(await wrong.json()).toMatchObject({ code: 'station_not_found' });
      expect((await get('/api/v1/stations/SF1')).status).toBe(404);
    });

    it('state changes, activity and config are per system', async () => {
      await lock(store, 'sf', sfInfos[1]!.stationId, T0 + 20, 1);
      const changes = await json<{ changes: { code: string; system: string; to: string }[] }>(
        '/api/v1/systems/sf/state-changes',
      );
      expect(changes.changes).toEqual([
        expect.objectContaining({ code: 'SF2', stationId: 'sf-2', to: 'locked' }),
      ]);
      const parisChanges = await json<{ changes: unknown[] }>('/api/v1/state-changes');
      expect(parisChanges.changes).toEqual([]);

      const activity = await json<{ system: string; timezone: string; stations: number }>(
        '/api/v1/systems/sf/activity',
      );
      expect(activity).toMatchObject({ system: 'sf', timezone: 'America/Los_Angeles', stations: 2 });
      const config = await json<{ systemId: string; name: string }>('/api/v1/systems/sf/config');
      expect(config).toMatchObject({ systemId: 'sf', name: 'System sf' });
      expect(await json<{ systemId: string }>('/api/v1/config')).toMatchObject({ systemId: 'paris' });
    });

    it('news written to the store by other processes shows without a restart (serve)', async () => {
      const before = await json<StationsBody>('/api/v1/systems/sf/stations');
      await commitDocument(store, 'sf', sfInfos, T0 + 90, (n) => n + 5);
      let after = before;
      for (let i = 0; i < 50 && after.timeSec !== T0 + 90; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await json<StationsBody>('/api/v1/systems/sf/stations');
      }
      expect(after.timeSec).toBe(T0 + 90);
      expect(stationsOf(after).map((s) => s.bikes.mechanical)).toEqual([6, 7]);
      expect(after.counts['locked']).toBe(1);
      // The other system did not move.
      expect((await json<StationsBody>('/api/v1/stations')).timeSec).toBe(T0);

      // A system registered after the start is served too.
      await seedSystem(store, 'lyon', 'Europe/Paris', 1, 45.76, T0 + 60);
      const lyon = await json<StationsBody>('/api/v1/systems/lyon/stations');
      expect(stationsOf(lyon).map((s) => s.code)).toEqual(['LYON1']);
    });

    it('GET /api/v1/systems/:id/live pushes that system’s state changes only', async () => {
      const events = await readSse(
        `${base}/api/v1/systems/sf/live`,
        (evs) => evs.some((e) => e.event === 'state-change'),
        {
          timeoutMs: 10_000,
          onOpen: async () => {
            await lock(store, 'paris', parisInfos[0]!.stationId, T0 + 100, 2);
            await lock(store, 'sf', sfInfos[0]!.stationId, T0 + 110, 3);
          },
        },
      );
      const changes = events.filter((e) => e.event === 'state-change').map((e) => e.data);
      expect(changes).toEqual([expect.objectContaining({ system: 'sf', code: 'SF1', to: 'locked' })]);
    });

    // Every per-system feed and export of an unknown system: the JSON routes' 404.
    it('exports, GBFS, Atom feeds and readiness of an unknown system are a JSON 404 system_not_found', async () => {
      for (const p of [
        `/api/v1/systems/nowhere/exports/events.csv?since=${T0}&until=${T0 + 60}`,
        `/api/v1/systems/nowhere/exports/state-changes.parquet?since=${T0}&until=${T0 + 60}`,
        // The system is checked before the query: no 400 for a missing range.
        '/api/v1/systems/nowhere/exports/events.csv',
        '/gbfs/systems/nowhere/gbfs.json',
        '/gbfs/systems/nowhere/manifest.json',
        '/gbfs/systems/nowhere/v3.0/station_status.json',
        '/feeds/systems/nowhere/state-changes.atom',
        '/feeds/systems/nowhere/stations/SF1.atom',
        '/readyz?system=nowhere',
      ]) {
        const res = await get(p);
        expect(res.status, p).toBe(404);
        expect(res.headers.get('content-type'), p).toMatch(/application\/json/);
        expect(await res.json(), p).toMatchObject({ code: 'system_not_found', param: 'system' });
      }
    });

    it('exports are per system; the unprefixed exports stay the default system’s', async () => {
      const range = `since=${T0 - 3600}&until=${T0 + 3600}`;
      const csv = async (p: string): Promise<Record<string, string>[]> => {
        const res = await get(p);
        expect(res.status, p).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
        return parseCsv<Record<string, string>>(await res.text(), { columns: true });
      };
      const sfEvents = await csv(`/api/v1/systems/sf/exports/events.csv?${range}`);
      expect(sfEvents.length).toBeGreaterThan(0);
      expect(new Set(sfEvents.map((r) => r['system']))).toEqual(new Set(['sf']));
      // sf's snapshots say 2 stations, paris's 3.
      expect(sfEvents.filter((r) => r['type'] === 'snapshot').map((r) => r['stations'])).toEqual(
        sfEvents.filter((r) => r['type'] === 'snapshot').map(() => '2'),
      );
      const parisEvents = await csv(`/api/v1/exports/events.csv?${range}`);
      expect(parisEvents.length).toBeGreaterThan(0);
      expect(new Set(parisEvents.map((r) => r['system']))).toEqual(new Set(['paris']));
      expect(await csv(`/api/v1/systems/paris/exports/events.csv?${range}`)).toEqual(parisEvents);

      const sfChanges = await csv(`/api/v1/systems/sf/exports/state-changes.csv?${range}`);
      expect(sfChanges.map((r) => [r['system'], r['station_code'], r['to']])).toEqual([
        ['sf', 'SF2', 'locked'],
        ['sf', 'SF1', 'locked'],
      ]);
      const parisChanges = await csv(`/api/v1/exports/state-changes.csv?${range}`);
      expect(parisChanges.map((r) => [r['system'], r['station_code']])).toEqual([['paris', 'PARIS1']]);

      const parquet = await get(`/api/v1/systems/sf/exports/state-changes.parquet?${range}`);
      expect(parquet.status).toBe(200);
      expect(parquet.headers.get('content-disposition')).toMatch(/filename="sf-state-changes-.*\.parquet"/);
      expect(
        Buffer.from(await parquet.arrayBuffer())
          .subarray(0, 4)
          .toString(),
      ).toBe('PAR1');
    });

    it('each system has its own corrected GBFS feed, linking under its own prefix', async () => {
      interface Doc {
        data: {
          system_id?: string;
          stations?: { station_id: string; is_renting: boolean }[];
          en?: { feeds: { name: string; url: string }[] };
          datasets?: { system_id: string; versions: { url: string }[] }[];
          manifest_url?: string;
        };
      }
      const sfStatus = await json<Doc>('/gbfs/systems/sf/v2.3/station_status.json');
      expect(sfStatus.data.stations!.map((s) => [s.station_id, s.is_renting])).toEqual([
        ['sf-1', false], // locked by the test above: corrected
        ['sf-2', false],
      ]);
      const parisStatus = await json<Doc>('/gbfs/v2.3/station_status.json');
      expect(parisStatus.data.stations!.map((s) => [s.station_id, s.is_renting])).toEqual([
        ['paris-1', false],
        ['paris-2', true],
        ['paris-3', true],
      ]);
      expect(await json<Doc>('/gbfs/systems/paris/v2.3/station_status.json')).toEqual(parisStatus);
      expect((await json<Doc>('/gbfs/systems/sf/v3.0/system_information.json')).data).toMatchObject({
        system_id: 'sf',
        manifest_url: `${base}/gbfs/systems/sf/manifest.json`,
      });
      expect((await json<Doc>('/gbfs/v2.3/system_information.json')).data.system_id).toBe('paris');

      // Links stay under the prefix asked, and resolve to the same system.
      const discovery = await json<Doc>('/gbfs/systems/sf/gbfs.json');
      const links = Object.values(discovery.data).flatMap((l) => (l as { feeds: { url: string }[] }).feeds);
      expect(links.length).toBe(GBFS_FILES.length - 1); // every file but gbfs.json itself
      for (const { url } of links) {
        expect(url.startsWith(`${base}/gbfs/systems/sf/v2.3/`), url).toBe(true);
        expect((await fetch(url)).status, url).toBe(200);
      }
      const manifest = await json<Doc>('/gbfs/systems/sf/manifest.json');
      expect(manifest.data.datasets).toEqual([
        {
          system_id: 'sf',
          versions: [
            { version: '2.3', url: `${base}/gbfs/systems/sf/v2.3/gbfs.json` },
            { version: '3.0', url: `${base}/gbfs/systems/sf/v3.0/gbfs.json` },
          ],
        },
      ]);
      // The default system's links are unchanged.
      const defaultManifest = await json<Doc>('/gbfs/manifest.json');
      expect(defaultManifest.data.datasets![0]!.versions[0]!.url).toBe(`${base}/gbfs/v2.3/gbfs.json`);
    });

    it('each system has its own Atom feeds, linking to its pages in the web app', async () => {
      const atom = async (p: string): Promise<string> => {
        const res = await get(p);
        expect(res.status, p).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
        return res.text();
      };
      const titles = (xml: string): string[] =>
        [...xml.matchAll(/<entry>[\s\S]*?<title type="text">([^<]*)</g)].map((m) => m[1]!);
      const sf = await atom('/feeds/systems/sf/state-changes.atom?lang=en');
      expect(titles(sf)).toEqual(['sf station 1 (SF1): Locked', 'sf station 2 (SF2): Locked']);
      expect(sf).toContain('<title type="text">System sf');
      expect(sf).toContain(`href="${base}/station/SF1?system=sf"`);
      expect(sf).toContain(`<link rel="alternate" type="text/html" href="${base}/?system=sf"/>`);
      expect(sf).toContain(
        `<link rel="self" type="application/atom+xml" href="${base}/feeds/systems/sf/state-changes.atom?lang=en"/>`,
      );

      const paris = await atom('/feeds/state-changes.atom?lang=en');
      expect(titles(paris)).toEqual(['paris station 1 (PARIS1): Locked']);
      // The default system's feed keeps its links without a system.
      expect(paris).toContain(`href="${base}/station/PARIS1"`);
      expect(paris).not.toContain('?system=');

      const station = await atom('/feeds/systems/sf/stations/SF2.atom?lang=en');
      expect(titles(station)).toEqual(['sf station 2 (SF2): Locked']);
      // A station of another system is not in this system's feeds.
      for (const p of ['/feeds/systems/sf/stations/PARIS1.atom', '/feeds/stations/SF2.atom']) {
        const res = await get(p);
        expect(res.status, p).toBe(404);
        expect(await res.json()).toMatchObject({ code: 'station_not_found' });
      }
    });

    it('/readyz judges the default system (or ?system=) and lists every system’s freshness', async () => {
      interface Ready {
        ready: boolean;
        system: string;
        feed: { fresh: boolean; reason: string | null };
        database: { writable: boolean };
        systems: { id: string; fresh: boolean; reason: string | null }[];
      }
      // sf polled just now; paris last succeeded at T0 (long ago): stale.
      const nowSec = Math.floor(Date.now() / 1000);
      await store.saveFeedHealth({
        system: 'sf',
        lastDocumentSec: nowSec,
        lastPollSec: nowSec,
        lastSuccessSec: nowSec,
        stale: false,
        consecutiveFailures: 0,
        lastError: null,
        rejected: {},
      });
      const ready = async (p: string, status: number): Promise<Ready> => {
        const res = await get(p);
        expect(res.status, p).toBe(status);
        return (await res.json()) as Ready;
      };
      const byDefault = await ready('/readyz', 503);
      expect(byDefault).toMatchObject({ ready: false, system: 'paris', feed: { fresh: false } });
      expect(byDefault.feed.reason).toMatch(/no successful poll/);
      expect(byDefault.systems.map((s) => [s.id, s.fresh])).toEqual([
        ['lyon', false],
        ['paris', false],
        ['sf', true],
      ]);
      const sf = await ready('/readyz?system=sf', 200);
      expect(sf).toMatchObject({
        ready: true,
        system: 'sf',
        feed: { fresh: true },
        database: { writable: true },
      });
      expect(sf.systems).toEqual(byDefault.systems);
    });
  });
}
