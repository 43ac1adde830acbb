/**
 * Many systems in one store: /api/v1/systems/:id/… serves each one with the same routes as the
 * default system's unprefixed /api/v1/…, over a real store (SQLite, and PostgreSQL when it is up)
 * and real HTTP. The API is started as `serve` starts it (refreshed from the store: no pipeline
 * in the process), so writes to the store show up without any LiveBus publish.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  });
}
