/**
 * The corrected GBFS feed, end to end: a lock injected in the simulator, detected by the real
 * pipeline, shows as not renting / not returning in the very next poll's documents; every document
 * of 2.3 and 3.0 validates against the official schema of its version.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GBFS_FILES,
  GBFS_VERSIONS,
  GbfsUrls,
  correctStations,
  correctedFlags,
  gbfsPrefix,
  rfc3339,
  type GbfsVersion,
} from '../../src/publish/index.js';
import { POLL_SEC, SYSTEM, buildWorld, hasSchemas, schemaRoot, type World } from './fixture.js';

interface Station {
  station_id: string;
  is_installed: boolean;
  is_renting: boolean;
  is_returning: boolean;
  num_bikes_available?: number;
  num_vehicles_available?: number;
  _dockwatch_state: string;
  _dockwatch_confidence?: number;
  _dockwatch_since?: number | string;
  _dockwatch_feed_is_renting: boolean;
  _dockwatch_feed_is_returning: boolean;
}
interface Doc {
  last_updated: number | string;
  ttl: number;
  version: string;
  data: Record<string, unknown> & { stations?: Station[] };
}

async function getJson(url: string): Promise<Doc> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as Doc;
}

describe('corrected flags', () => {
  const open = { isRenting: true, isReturning: true };
  it('applies each kind of detected lock to the matching flag only', () => {
    expect(correctedFlags(open, 'locked')).toEqual({ isRenting: false, isReturning: false });
    expect(correctedFlags(open, 'rent_blocked')).toEqual({ isRenting: false, isReturning: true });
    expect(correctedFlags(open, 'return_blocked')).toEqual({ isRenting: true, isReturning: false });
    expect(correctedFlags(open, 'ok')).toEqual(open);
    expect(correctedFlags(open, 'learning')).toEqual(open);
    expect(correctedFlags(open, undefined)).toEqual(open);
  });
  it('never turns a flag the feed says is false back on', () => {
    expect(correctedFlags({ isRenting: false, isReturning: true }, 'ok')).toEqual({
      isRenting: false,
      isReturning: true,
    });
  });
  it('shows the feed’s own word over our detection, with confidence 1', () => {
    const info = { stationId: 's1', code: 'S1', name: 'One', lat: 48.8, lon: 2.3, capacity: 20 };
    const status = {
      stationId: 's1',
      code: null,
      bikes: { mechanical: 1, electric: 2, other: 0 },
      bikesDisabled: 0,
      docksAvailable: 10,
      docksDisabled: 0,
      isInstalled: true,
      isRenting: false,
      isReturning: true,
      lastReportedSec: 1_760_000_000,
    };
    const row = {
      stationId: 's1',
      state: 'locked' as const,
      sinceSec: 1_759_990_000,
      confidence: 0.91,
      detector: 'seed',
    };
    const [c] = correctStations([info], [status], [row]);
    expect(c).toMatchObject({ state: 'not_renting', confidence: 1, isRenting: false, isReturning: false });
    // A station without information (no name, no position) cannot be published.
    expect(correctStations([], [status], [row])).toEqual([]);
  });
});

describe('GBFS URLs', () => {
  it('the default system’s feed at /gbfs, any system’s at /gbfs/systems/{id} (encoded)', () => {
    expect(gbfsPrefix()).toBe('/gbfs');
    expect(gbfsPrefix('bay wheels/2')).toBe('/gbfs/systems/bay%20wheels%2F2');
    const urls = new GbfsUrls('https://x.org', gbfsPrefix('sf'));
    expect(urls.file('3.0', 'station_status')).toBe('https://x.org/gbfs/systems/sf/v3.0/station_status.json');
    expect(urls.manifest()).toBe('https://x.org/gbfs/systems/sf/manifest.json');
    expect(new GbfsUrls('https://x.org').manifest()).toBe('https://x.org/gbfs/manifest.json');
  });
});

describe('corrected GBFS feed over HTTP', () => {
  let world: World;
  let url: string;
  let target: string;
  let detectedAfterPolls: number;

  beforeAll(async () => {
    world = await buildWorld();
    ({ url } = await world.server());
    target = world.busiest[0]!;
    world.sim.injectFault({ kind: 'locked', stationId: target, startInSec: 0 });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('shows an injected lock as not renting and not returning in the poll that detects it', async () => {
    // Poll by poll, as the watcher would: the corrected feed follows the detector with no lag.
    for (detectedAfterPolls = 1; detectedAfterPolls <= 400; detectedAfterPolls++) {
      await world.poll();
      const detected = (await world.store.listDetectedStates(SYSTEM)).find((r) => r.stationId === target);
      const doc = await getJson(`${url}/gbfs/v2.3/station_status.json`);
      expect(doc.last_updated).toBe(world.lastDocSec);
      const station = doc.data.stations!.find((s) => s.station_id === target)!;
      // The simulator's feed keeps claiming the station works: only behaviour gives the lock away.
      expect(station._dockwatch_feed_is_renting).toBe(true);
      expect(station._dockwatch_feed_is_returning).toBe(true);
      if (detected?.state === 'locked') {
        expect(station).toMatchObject({ is_renting: false, is_returning: false, _dockwatch_state: 'locked' });
        expect(station._dockwatch_confidence).toBe(Math.round(detected.confidence * 1000) / 1000);
        expect(station._dockwatch_since).toBe(detected.sinceSec);
        const v3 = await getJson(`${url}/gbfs/v3.0/station_status.json`);
        expect(v3.last_updated).toBe(rfc3339(world.lastDocSec));
        expect(v3.data.stations!.find((s) => s.station_id === target)).toMatchObject({
          is_renting: false,
          is_returning: false,
          _dockwatch_state: 'locked',
          _dockwatch_since: rfc3339(detected.sinceSec),
        });
        break;
      }
      expect(station.is_renting).toBe(true);
    }
    expect(detectedAfterPolls).toBeLessThanOrEqual(400);
  }, 120_000);

  it('applies partial locks to the matching flag only', async () => {
    const [, rentBlocked, returnBlocked] = world.busiest;
    const sinceSec = world.lastDocSec;
    await world.store.saveDetectedStates(SYSTEM, [
      { stationId: rentBlocked!, state: 'rent_blocked', sinceSec, confidence: 0.8, detector: 'seed' },
      { stationId: returnBlocked!, state: 'return_blocked', sinceSec, confidence: 0.7, detector: 'seed' },
    ]);
    world.live.publishSnapshot(SYSTEM, world.lastDocSec); // what the pipeline does after a commit
    const doc = await getJson(`${url}/gbfs/v2.3/station_status.json`);
    const byId = new Map(doc.data.stations!.map((s) => [s.station_id, s]));
    expect(byId.get(rentBlocked!)).toMatchObject({
      is_renting: false,
      is_returning: true,
      _dockwatch_state: 'rent_blocked',
    });
    expect(byId.get(returnBlocked!)).toMatchObject({
      is_renting: true,
      is_returning: false,
      _dockwatch_state: 'return_blocked',
      _dockwatch_confidence: 0.7,
    });
  });

  it('has honest last_updated and ttl, links that resolve, ETags and cache headers', async () => {
    const discovery = await getJson(`${url}/gbfs/gbfs.json`);
    expect(discovery).toEqual(await getJson(`${url}/gbfs/v2.3/gbfs.json`));
    expect(discovery.ttl).toBe(POLL_SEC);
    expect(discovery.last_updated).toBe(world.lastDocSec);
    const feeds = (discovery.data['fr'] as { feeds: { name: string; url: string }[] }).feeds;
    expect(feeds.map((f) => f.name).sort()).toEqual([
      'gbfs_versions',
      'station_information',
      'station_status',
      'system_information',
    ]);
    for (const f of feeds) expect((await fetch(f.url)).status, f.url).toBe(200);
    const v3 = await getJson(`${url}/gbfs/v3.0/gbfs.json`);
    for (const f of (v3.data as { feeds: { url: string }[] }).feeds)
      expect((await fetch(f.url)).status, f.url).toBe(200);
    const manifest = await getJson(`${url}/gbfs/manifest.json`);
    expect(manifest.data).toEqual({
      datasets: [
        {
          system_id: SYSTEM,
          versions: [
            { version: '2.3', url: `${url}/gbfs/v2.3/gbfs.json` },
            { version: '3.0', url: `${url}/gbfs/v3.0/gbfs.json` },
          ],
        },
      ],
    });

    const res = await fetch(`${url}/gbfs/v2.3/station_status.json`, { headers: { 'accept-encoding': 'br' } });
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('cache-control')).toBe(
      `public, max-age=${POLL_SEC / 2}, stale-while-revalidate=${POLL_SEC}`,
    );
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    expect(
      (await fetch(`${url}/gbfs/v2.3/station_status.json`, { headers: { 'if-none-match': etag } })).status,
    ).toBe(304);
    // A new document is a new version: same URL, new ETag, new last_updated.
    await world.poll();
    const after = await fetch(`${url}/gbfs/v2.3/station_status.json`, { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as Doc).last_updated).toBe(world.lastDocSec);
    expect((await fetch(`${url}/gbfs/v2.3/station_status.json?x=1`)).status).toBe(400);
    expect((await fetch(`${url}/gbfs/v2.2/station_status.json`)).status).toBe(404);
  });

  it('uses the configured public URL in every link', async () => {
    const { url: other } = await world.server({ publicUrl: 'https://velo.example.org/' });
    const doc = await getJson(`${other}/gbfs/v3.0/gbfs.json`);
    for (const f of (doc.data as { feeds: { url: string }[] }).feeds)
      expect(f.url).toMatch(/^https:\/\/velo\.example\.org\/gbfs\/v3\.0\//);
    const sys = await getJson(`${other}/gbfs/v3.0/system_information.json`);
    expect(sys.data['manifest_url']).toBe('https://velo.example.org/gbfs/manifest.json');
    // The same feed under /gbfs/systems/{id}/ links under that prefix.
    const prefixed = await getJson(`${other}/gbfs/systems/${SYSTEM}/v3.0/gbfs.json`);
    const feeds = (prefixed.data as { feeds: { url: string }[] }).feeds;
    expect(feeds.length).toBe(GBFS_FILES.length - 1);
    for (const f of feeds)
      expect(f.url.startsWith(`https://velo.example.org/gbfs/systems/${SYSTEM}/v3.0/`), f.url).toBe(true);
  });

  it('serves the same documents under /gbfs/systems/{id}/ (the default system too)', async () => {
    const path = '/v2.3/station_status.json';
    const [plain, prefixed] = await Promise.all([
      getJson(`${url}/gbfs${path}`),
      getJson(`${url}/gbfs/systems/${SYSTEM}${path}`),
    ]);
    expect(prefixed).toEqual(plain);
    const missing = await fetch(`${url}/gbfs/systems/elsewhere${path}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'system_not_found', param: 'system' });
  });

  describe.skipIf(!hasSchemas)('every document validates against the official schema of its version', () => {
    if (!hasSchemas) console.warn(`skipping GBFS schema validation: ${schemaRoot} is absent`);
    const validators = new Map<string, ValidateFunction>();
    const validator = (version: GbfsVersion, file: string): ValidateFunction => {
      const key = `${version}/${file}`;
      let v = validators.get(key);
      if (!v) {
        // One Ajv per version: the schemas of different versions may share $ids. All are draft-07.
        const ajv = new Ajv({ allErrors: true, strict: false });
        (addFormatsImport as unknown as (a: Ajv) => void)(ajv);
        v = ajv.compile(
          JSON.parse(readFileSync(path.join(schemaRoot, `v${version}`, `${file}.json`), 'utf8')) as object,
        );
        validators.set(key, v);
      }
      return v;
    };

    it.each(GBFS_VERSIONS.flatMap((version) => GBFS_FILES.map((file) => [version, file] as const)))(
      'v%s %s.json',
      async (version, file) => {
        const doc = await getJson(`${url}/gbfs/v${version}/${file}.json`);
        const validate = validator(version, file);
        expect(validate(doc) ? [] : validate.errors).toEqual([]);
        expect(doc.version).toBe(version);
        if (file === 'station_status' || file === 'station_information')
          expect(doc.data.stations!.length).toBeGreaterThan(20);
        if (file === 'station_status') {
          // The schemas are no rubber stamp: the same document without a required field fails.
          const broken = structuredClone(doc);
          delete (broken.data.stations![0] as Partial<Station>).is_renting;
          expect(validate(broken)).toBe(false);
        }
      },
    );

    it('the 3.0 manifest and the auto-discovery file', async () => {
      const manifest = validator('3.0', 'manifest');
      expect(manifest(await getJson(`${url}/gbfs/manifest.json`)) ? [] : manifest.errors).toEqual([]);
      const prefixed = await getJson(`${url}/gbfs/systems/${SYSTEM}/manifest.json`);
      expect(manifest(prefixed) ? [] : manifest.errors).toEqual([]);
      const gbfs = validator('2.3', 'gbfs');
      expect(gbfs(await getJson(`${url}/gbfs/gbfs.json`)) ? [] : gbfs.errors).toEqual([]);
    });
  });
});
