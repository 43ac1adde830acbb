/**
 * The /api/v1 contract, one suite for every way the API is deployed: the Fastify server over real
 * HTTP on 127.0.0.1 (api.test.ts) and the Lambda handler behind API Gateway HTTP API payload 2.0
 * (api-lambda.test.ts). Both run over a real SQLite store seeded from the real Vélib' snapshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBSERVED_STATION_ID, localClock } from '../../src/activity/index.js';
import {
  stationsFromColumns,
  type StationColumns,
  type StationListItem,
} from '../../src/api/station-table.js';
import { hasVelib, seedVelibStore, SYSTEM, TIMEZONE, type Seeded } from './fixture.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import type { ApiRunner, ApiTarget } from './runners.js';

/** Where the seeded store lives. */
export interface StoreBackend {
  name: string;
  /** A new, migrated, empty store; `dir` is a temporary folder of the suite. */
  open(dir: string): Promise<Store>;
  close?(): Promise<void>;
}

export const sqliteBackend: StoreBackend = {
  name: 'SQLite',
  open: async (dir) => {
    const store = openSqliteStore({ path: path.join(dir, 'db.sqlite') });
    await store.migrate();
    return store;
  },
};

export interface StationsBody {
  timeSec: number;
  version: number;
  count: number;
  counts: Record<string, number>;
  /** One array per property (src/api/station-table.ts): read with `stationsOf`. */
  stations: StationColumns;
}

/** The stations of a GET /stations body, one object each. */
export function stationsOf(body: StationsBody): StationListItem[] {
  return stationsFromColumns(body.stations);
}

/**
 * Registers the contract suite for `runner`. `extra` adds runner-specific tests inside the same
 * describe (same seeded store and target).
 */
export function apiContract(
  runner: ApiRunner,
  extra?: (ctx: () => { seeded: Seeded; api: ApiTarget }) => void,
  backend: StoreBackend = sqliteBackend,
): void {
  describe.skipIf(!hasVelib)(`API v1 over a seeded ${backend.name} store: ${runner.name}`, () => {
    let dir: string;
    let seeded: Seeded;
    let api: ApiTarget;
    const get = (p: string, headers: Record<string, string> = {}) => api.request(p, { headers });

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'dockwatch-api-'));
      seeded = await seedVelibStore(await backend.open(dir));
      api = await runner.start(seeded.store);
    });
    afterAll(async () => {
      await api?.close();
      await seeded?.store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('GET /stations: every station, compressed once, small, with ETag / 304 and Cache-Control', async () => {
      const res = await get('/api/v1/stations', { 'accept-encoding': 'br, gzip' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=30, stale-while-revalidate=60');
      const body = (await res.json()) as StationsBody;
      expect(body.count).toBe(seeded.statuses.length);
      const stations = stationsOf(body);
      expect(stations).toHaveLength(seeded.statuses.length);
      expect(body.timeSec).toBe(seeded.timeSec);
      const locked = stations.find((s) => s.code === seeded.lockedCode)!;
      expect(locked.state).toBe('locked');
      expect(stations.find((s) => s.code === seeded.partialCode)!.state).toBe('rent_blocked');
      expect(body.counts['locked']).toBe(seeded.lockedCodes.length);
      for (const s of stations) {
        expect(s.blockedDocks).toBeGreaterThanOrEqual(0);
        if (s.capacity !== null)
          expect(s.blockedDocks).toBe(
            Math.max(0, s.capacity - s.bikes.mechanical - s.bikes.electric - s.bikes.other - s.docks),
          );
      }
      // Stations active recently have a last-activity time, never after the data time.
      expect(stations.filter((s) => s.lastActivity !== null).length).toBeGreaterThan(1000);
      expect(Math.max(...stations.map((s) => s.lastActivity ?? 0))).toBeLessThanOrEqual(seeded.timeSec);

      // Size on the wire (fetch decompresses; ask with a raw request to measure). The best brotli
      // pass runs in the background after each snapshot: wait for it (bounded).
      let raw = await get('/api/v1/stations', { 'accept-encoding': 'br' });
      for (let i = 0; i < 100 && raw.wire.length > 40 * 1024; i++) {
        await new Promise((r) => setTimeout(r, 200));
        raw = await get('/api/v1/stations', { 'accept-encoding': 'br' });
      }
      expect(raw.headers.get('content-encoding')).toBe('br');
      console.log(`GET /stations for ${body.count} stations (${runner.name}): ${raw.wire.length} B brotli`);
      expect(raw.wire.length).toBeLessThanOrEqual(40 * 1024);
      expect((JSON.parse(brotliDecompressSync(raw.wire).toString()) as StationsBody).count).toBe(body.count);
      const gz = await get('/api/v1/stations', { 'accept-encoding': 'gzip' });
      expect(gz.headers.get('content-encoding')).toBe('gzip');
      console.log(`GET /stations (${runner.name}): ${gz.wire.length} B gzip`);
      expect(gz.wire.length).toBeLessThanOrEqual(40 * 1024);
      expect((JSON.parse(gunzipSync(gz.wire).toString()) as StationsBody).count).toBe(body.count);

      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/^W\/"/);
      const again = await get('/api/v1/stations', { 'if-none-match': etag });
      expect(again.status).toBe(304);
    });

    it('GET /stations.geojson: a FeatureCollection of the same stations', async () => {
      const res = await get('/api/v1/stations.geojson');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/geo\+json/);
      const fc = (await res.json()) as {
        type: string;
        features: { geometry: { coordinates: number[] }; properties: { code: string; state: string } }[];
      };
      expect(fc.type).toBe('FeatureCollection');
      expect(fc.features).toHaveLength(seeded.statuses.length);
      const f = fc.features.find((x) => x.properties.code === seeded.lockedCode)!;
      const info = seeded.infos.find((i) => i.code === seeded.lockedCode)!;
      expect(f.geometry.coordinates[0]).toBeCloseTo(info.lon, 4);
      expect(f.geometry.coordinates[1]).toBeCloseTo(info.lat, 4);
      expect(f.properties.state).toBe('locked');
    });

    it('GET /stations/:code: the station, its history and today vs usual', async () => {
      const res = await get(`/api/v1/stations/${seeded.lockedCode}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        station: { code: string; state: string; since: number };
        history: { to: string; timeSec: number; code: string }[];
        activity: {
          currentSlot: number;
          today: { rented: number[]; returned: number[] };
          usual: { rented: number[]; days: number };
        };
      };
      expect(body.station.code).toBe(seeded.lockedCode);
      expect(body.station.state).toBe('locked');
      expect(body.history[0]!.to).toBe('locked');
      expect(body.history[0]!.timeSec).toBe(body.station.since);
      expect(body.activity.today.rented).toHaveLength(144);
      expect(body.activity.usual.days).toBeGreaterThan(0);
      expect(body.activity.usual.rented.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      // Locked since 5 h before the data time: nothing in the slots after that.
      const clock = localClock(TIMEZONE);
      const lockSlot = clock.slot(body.station.since);
      const after = body.activity.today.rented.slice(lockSlot + 1).reduce((a, b) => a + b, 0);
      expect(after).toBe(0);
      // Also reachable by feed station_id.
      const id = seeded.infos.find((i) => i.code === seeded.lockedCode)!.stationId;
      expect((await get(`/api/v1/stations/${id}`)).status).toBe(200);
    });

    it('GET /state-changes: newest first, filters, cursor pagination without gaps or repeats', async () => {
      const all: { id: number; timeSec: number; to: string }[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`/api/v1/state-changes?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { changes: typeof all; nextCursor: string | null };
        all.push(...body.changes);
        cursor = body.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      // 30 resolved locks (2 changes each) + 12 current locks + 1 partial.
      expect(all).toHaveLength(30 * 2 + 12 + 1);
      expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
      for (let i = 1; i < all.length; i++) expect(all[i]!.id).toBeLessThan(all[i - 1]!.id);

      const locked = (await (await get('/api/v1/state-changes?state=locked&limit=500')).json()) as {
        changes: typeof all;
      };
      expect(locked.changes.length).toBe(30 + 12);
      expect(locked.changes.every((c) => c.to === 'locked')).toBe(true);

      const one = (await (await get(`/api/v1/state-changes?station=${seeded.lockedCode}`)).json()) as {
        changes: { code: string }[];
      };
      expect(one.changes.length).toBeGreaterThan(0);
      expect(one.changes.every((c) => c.code === seeded.lockedCode)).toBe(true);

      const since = seeded.timeSec - 86400;
      const recent = (await (
        await get(`/api/v1/state-changes?since=${since}&until=${seeded.timeSec}&limit=500`)
      ).json()) as { changes: typeof all };
      expect(recent.changes.length).toBe(
        all.filter((c) => c.timeSec >= since && c.timeSec <= seeded.timeSec).length,
      );
    });

    it('GET /activity: today totals match the store, usual from comparable observed days', async () => {
      const res = await get('/api/v1/activity');
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        totals: { rentedToday: number; returnedToday: number };
        activity: { usual: { days: number }; today: { rented: number[] } };
        states: Record<string, number>;
        stations: number;
      };
      const day = localClock(TIMEZONE).day(seeded.timeSec);
      const rows = (await seeded.store.loadActivity(SYSTEM, day, day)).filter(
        (r) => r.stationId !== OBSERVED_STATION_ID,
      );
      expect(body.totals.rentedToday).toBe(rows.reduce((a, r) => a + r.rented, 0));
      expect(body.totals.returnedToday).toBe(rows.reduce((a, r) => a + r.returned, 0));
      // 2025-10-18 is a Saturday: the comparable days of the last 14 are 2 Saturdays and 2 Sundays.
      expect(body.activity.usual.days).toBe(4);
      expect(body.states['locked']).toBe(seeded.lockedCodes.length);
      expect(body.stations).toBe(seeded.statuses.length);
    });

    it('GET /systems and /stats', async () => {
      const sys = (await (await get('/api/v1/systems')).json()) as {
        systems: {
          id: string;
          watched: boolean;
          health: { rejected: Record<string, number>; stale: boolean };
        }[];
      };
      expect(sys.systems).toHaveLength(1);
      expect(sys.systems[0]!.watched).toBe(true);
      expect(sys.systems[0]!.health.rejected['bad_station']).toBe(2);

      const stats = (await (await get('/api/v1/stats?days=7')).json()) as {
        series: { timeSec: number; locked: number; partial: number }[];
        longestLocks: { durationSec: number; ongoing: boolean; code: string }[];
      };
      expect(stats.series.length).toBeGreaterThanOrEqual(7 * 24);
      const last = stats.series[stats.series.length - 1]!;
      // Current locks started 5 h + 7 h·i ago: at the last full hour, those older than it are locked.
      expect(last.locked).toBeGreaterThanOrEqual(seeded.lockedCodes.length - 1);
      expect(stats.series[0]!.locked).toBeLessThan(last.locked);
      for (let i = 1; i < stats.longestLocks.length; i++) {
        expect(stats.longestLocks[i]!.durationSec).toBeLessThanOrEqual(
          stats.longestLocks[i - 1]!.durationSec,
        );
      }
      expect(stats.longestLocks.some((l) => l.ongoing && seeded.lockedCodes.includes(l.code))).toBe(true);
    });

    it('operations: /healthz, /readyz, /metrics', async () => {
      expect((await get('/healthz')).status).toBe(200);
      const ready = await get('/readyz');
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { database: { writable: boolean } }).database.writable).toBe(true);
      const m = await (await get('/metrics')).text();
      expect(m).toMatch(/dockwatch_http_request_seconds_bucket\{.*route="\/api\/v1\/stations"/);
      expect(m).toContain('dockwatch_polls_total');
    });

    it('security headers, CORS for GET, compression of ordinary JSON', async () => {
      const res = await get('/api/v1/activity', { origin: 'https://example.org', 'accept-encoding': 'gzip' });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain('https://tile.openstreetmap.org');
      expect(res.headers.get('content-encoding')).toBe('gzip');
      const pre = await api.request('/api/v1/stations', {
        method: 'OPTIONS',
        headers: { origin: 'https://example.org', 'access-control-request-method': 'GET' },
      });
      expect(pre.headers.get('access-control-allow-methods')).toContain('GET');
    });

    it('OpenAPI document: every route, every schema compiles', async () => {
      const doc = (await (await get('/docs/json')).json()) as {
        openapi: string;
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
        components: { schemas: Record<string, unknown> };
      };
      expect(doc.openapi).toMatch(/^3\./);
      for (const p of [
        '/api/v1/stations',
        '/api/v1/stations.geojson',
        '/api/v1/stations/{code}',
        '/api/v1/state-changes',
        '/api/v1/activity',
        '/api/v1/systems',
        '/api/v1/stats',
        '/api/v1/live',
        '/healthz',
        '/readyz',
        '/metrics',
      ]) {
        expect(doc.paths[p], p).toBeDefined();
        expect(Object.keys(doc.paths[p]!['get']!.responses).length, p).toBeGreaterThan(0);
      }
      // Every system's routes, exports and feeds, with their {system} path parameter.
      for (const p of [
        '/api/v1/systems/{system}/stations',
        '/api/v1/systems/{system}/stations/{code}',
        '/api/v1/systems/{system}/exports/events.csv',
        '/api/v1/systems/{system}/exports/state-changes.parquet',
        '/gbfs/systems/{system}/gbfs.json',
        '/gbfs/systems/{system}/v3.0/station_status.json',
        '/feeds/systems/{system}/state-changes.atom',
        '/feeds/systems/{system}/stations/{file}',
      ]) {
        const get = doc.paths[p]?.['get'] as { parameters?: { name: string; in: string }[] } | undefined;
        expect(get, p).toBeDefined();
        expect(
          get!.parameters?.filter((x) => x.in === 'path').map((x) => x.name),
          p,
        ).toContain('system');
      }
      const ajv = new Ajv({ strict: false });
      for (const [name, schema] of Object.entries(doc.components.schemas)) {
        const { $id: _id, ...rest } = schema as Record<string, unknown>;
        const resolved = JSON.parse(
          JSON.stringify(rest).replace(/"#\/components\/schemas\/([^"]+)"/g, '"comp:$1"'),
        ) as object;
        ajv.addSchema(resolved, `comp:${name}`);
      }
      for (const name of Object.keys(doc.components.schemas))
        expect(() => ajv.getSchema(`comp:${name}`), name).not.toThrow();
      const ui = await get('/docs/');
      expect(ui.status).toBe(200);
    });

    const BAD: [string, number, string, string | null][] = [
      ['/api/v1/state-changes?limit=0', 400, 'invalid_parameter', 'limit'],
      ['/api/v1/state-changes?limit=501', 400, 'invalid_parameter', 'limit'],
      ['/api/v1/state-changes?limit=abc', 400, 'invalid_parameter', 'limit'],
      ['/api/v1/state-changes?limit=1.5', 400, 'invalid_parameter', 'limit'],
      ['/api/v1/state-changes?state=broken', 400, 'invalid_parameter', 'state'],
      ['/api/v1/state-changes?since=-1', 400, 'invalid_parameter', 'since'],
      ['/api/v1/state-changes?since=yesterday', 400, 'invalid_parameter', 'since'],
      ['/api/v1/state-changes?until=1760778556000', 400, 'invalid_parameter', 'until'],
      ['/api/v1/state-changes?since=200&until=100', 400, 'invalid_range', 'since'],
      ['/api/v1/state-changes?cursor=zzzz', 400, 'invalid_cursor', 'cursor'],
      ['/api/v1/state-changes?cursor=%3Cscript%3E', 400, 'invalid_parameter', 'cursor'],
      ['/api/v1/state-changes?station=%3Bdrop', 400, 'invalid_parameter', 'station'],
      ['/api/v1/state-changes?station=999999999', 404, 'station_not_found', 'station'],
      ['/api/v1/state-changes?colour=red', 400, 'unknown_parameter', 'colour'],
      ['/api/v1/stations?x=1', 400, 'unknown_parameter', 'x'],
      ['/api/v1/stations/99999999', 404, 'station_not_found', 'code'],
      ['/api/v1/stations/' + 'a'.repeat(65), 400, 'invalid_parameter', 'code'],
      ['/api/v1/stations/%E0%A4%A', 400, 'bad_request', null],
      ['/api/v1/stations/a%20b', 400, 'invalid_parameter', 'code'],
      ['/api/v1/stats?days=0', 400, 'invalid_parameter', 'days'],
      ['/api/v1/stats?days=31', 400, 'invalid_parameter', 'days'],
      ['/api/v1/nothing-here', 404, 'not_found', null],
    ];
    it.each(BAD)('bad input %s → %i %s', async (url, status, code, param) => {
      const res = await get(url);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { code: string; message: string; param?: string };
      expect(body.code).toBe(code);
      expect(body.message.length).toBeGreaterThan(0);
      if (param !== null) expect(body.param).toBe(param);
    });

    it('a POST gets a 4xx JSON error, never a 5xx', async () => {
      const res = await api.request('/api/v1/stations', {
        method: 'POST',
        body: '{bad json',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(((await res.json()) as { code: string }).code).toBeTypeOf('string');
    });

    extra?.(() => ({ seeded, api }));
  });
}
