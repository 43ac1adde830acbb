/** The simulator's HTTP face: shapes, schemas, caching, determinism. Real HTTP on 127.0.0.1. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { afterEach, describe, expect, it } from 'vitest';
import { generateDocuments, startSimulator, type SimulatorHandle } from '../../src/sim/index.js';
import { MONDAY_7H_PARIS, fetchStatus, hasSchemas, hasVelib, schemaDir, velibDir } from './helpers.js';

const handles: SimulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});
async function start(opts: Parameters<typeof startSimulator>[0] = {}): Promise<SimulatorHandle> {
  const h = await startSimulator({ seed: 7, startSec: MONDAY_7H_PARIS, speed: 0, ...opts });
  handles.push(h);
  return h;
}
async function json(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('determinism', () => {
  it('serves identical documents for the same seed, whatever the request timing', async () => {
    const a = await start();
    const b = await start();
    const c = await start({ seed: 8 });
    // a: one jump of an hour; b: sixty one-minute steps with a request after each.
    a.advanceSec(3600);
    for (let k = 0; k < 60; k++) {
      b.advanceSec(60);
      await fetchStatus(b.url);
    }
    c.advanceSec(3600);
    const [da, db, dc] = await Promise.all(
      [a, b, c].map((h) => fetch(`${h.url}/station_status.json`).then((r) => r.text())),
    );
    expect(da).toBe(db);
    expect(da).not.toBe(dc);
    expect((JSON.parse(da as string) as { last_updated: number }).last_updated).toBe(MONDAY_7H_PARIS + 3600);
  });

  it('generateDocuments yields exactly what the server serves', async () => {
    const h = await start();
    const generated = [
      ...generateDocuments({
        seed: 7,
        fromSec: MONDAY_7H_PARIS,
        toSec: MONDAY_7H_PARIS + 3 * 3600,
        stepSec: 1800,
      }),
    ];
    expect(generated).toHaveLength(7);
    expect(generated[0]?.informationDoc).toEqual(await json(`${h.url}/station_information.json`));
    for (const g of generated) {
      expect(g.statusDoc).toEqual(await json(`${h.url}/station_status.json`));
      h.advanceSec(1800);
    }
  });

  it('advances with the clock when running (speed > 0)', async () => {
    const h = await start({ speed: 3600 });
    await new Promise((r) => setTimeout(r, 200));
    expect(h.nowSec()).toBeGreaterThanOrEqual(MONDAY_7H_PARIS + 600);
    expect((await fetchStatus(h.url)).last_updated).toBeGreaterThan(MONDAY_7H_PARIS);
  });
});

describe('HTTP behaviour', () => {
  it('answers 304 to a conditional GET with the ETag (and to If-Modified-Since), 200 once data changed', async () => {
    const h = await start();
    const url = `${h.url}/station_status.json`;
    const first = await fetch(url);
    await first.arrayBuffer();
    const etag = first.headers.get('etag') as string;
    const lastModified = first.headers.get('last-modified') as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(Date.parse(lastModified)).toBe(MONDAY_7H_PARIS * 1000);
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await fetch(url, { headers: { 'if-none-match': `W/${etag}, "other"` } })).status).toBe(304);
    expect((await fetch(url, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    h.advanceSec(600);
    const changed = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect((await fetch(url, { headers: { 'if-modified-since': lastModified } })).status).toBe(200);
    // Static documents keep their ETag while time runs.
    const info = await fetch(`${h.url}/station_information.json`);
    await info.arrayBuffer();
    h.advanceSec(3600);
    expect(
      (
        await fetch(`${h.url}/station_information.json`, {
          headers: { 'if-none-match': info.headers.get('etag') as string },
        })
      ).status,
    ).toBe(304);
  });

  it('gzips when asked, not otherwise', async () => {
    const { request } = await import('node:http');
    const h = await start();
    const get = (headers: Record<string, string>) =>
      new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
        request(`${h.url}/station_status.json`, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
          );
        })
          .on('error', reject)
          .end();
      });
    const plain = await get({});
    const zipped = await get({ 'accept-encoding': 'gzip, deflate' });
    const refused = await get({ 'accept-encoding': 'gzip;q=0' });
    expect(plain.encoding).toBeUndefined();
    expect(refused.encoding).toBeUndefined();
    expect(zipped.encoding).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
  });

  it('lists both shapes in discovery documents with absolute URLs that work', async () => {
    const h = await start();
    for (const [prefix, names] of [
      ['', ['system_information', 'station_information', 'station_status', 'vehicle_types']],
      ['/velib', ['system_information', 'station_information', 'station_status']],
    ] as const) {
      const doc = (await json(`${h.url}${prefix}/gbfs.json`)) as {
        data: Record<string, { feeds: { name: string; url: string }[] }>;
      };
      expect(Object.keys(doc.data).sort()).toEqual(['en', 'fr']);
      expect(doc.data['fr']?.feeds.map((f) => f.name)).toEqual(names);
      for (const f of doc.data['en']?.feeds ?? []) expect((await fetch(f.url)).status).toBe(200);
    }
    const sys = (await json(`${h.url}/system_information.json`)) as { data: { timezone: string } };
    expect(sys.data.timezone).toBe('Europe/Paris');
    expect((await fetch(`${h.url}/velib/vehicle_types.json`)).status).toBe(404);
    expect((await fetch(`${h.url}/free_bike_status.json`)).status).toBe(404);
    expect((await fetch(`${h.url}/station_status.json`, { method: 'POST' })).status).toBe(405);
  });
});

describe.skipIf(!hasSchemas)('GBFS 2.3 documents validate against the official schemas', () => {
  // The v2.3 schemas declare draft-07 ("$schema": "http://json-schema.org/draft-07/schema"): Ajv's default class.
  const ajv = new Ajv({ allErrors: true, strict: false });
  (addFormatsImport as unknown as (a: Ajv) => void)(ajv);
  const compiled = new Map<string, ValidateFunction>();
  const validator = (name: string): ValidateFunction => {
    let v = compiled.get(name);
    if (!v) {
      v = ajv.compile(JSON.parse(readFileSync(path.join(schemaDir, `${name}.json`), 'utf8')) as object);
      compiled.set(name, v);
    }
    return v;
  };

  const sources: [string, string | undefined][] = [['synthetic city', undefined]];
  if (hasVelib) sources.push(["Vélib' stations", velibDir]);
  it.each(sources)('%s', async (_label, stationsPath) => {
    const h = await start(stationsPath ? { stations: { path: stationsPath } } : {});
    h.advanceSec(7200);
    for (const feed of [
      'gbfs',
      'system_information',
      'station_information',
      'station_status',
      'vehicle_types',
    ]) {
      const validate = validator(feed);
      const doc = await json(`${h.url}/${feed}.json`);
      const ok = validate(doc);
      expect(ok ? [] : validate.errors, feed).toEqual([]);
    }
    // The schemas are not a rubber stamp: the Vélib' dialect must fail them.
    expect(validator('station_status')(await json(`${h.url}/velib/station_status.json`))).toBe(false);
  });
});

describe.skipIf(!hasVelib)("Vélib' shape matches the real snapshot", () => {
  type Doc = { data: { stations: Record<string, unknown>[] } } & Record<string, unknown>;
  const real = (file: string) => JSON.parse(readFileSync(path.join(velibDir, file), 'utf8')) as Doc;
  const shapeOf = (o: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]),
    );

  it.each([
    ['synthetic city', undefined],
    ["Vélib' stations", velibDir],
  ])('station_status and station_information (%s)', async (_label, stationsPath) => {
    const h = await start(stationsPath ? { stations: { path: stationsPath } } : {});
    h.advanceSec(600);
    const status = (await json(`${h.url}/velib/station_status.json`)) as Doc;
    const realStatus = real('station_status.json');
    expect(Object.keys(status).sort()).toEqual(Object.keys(realStatus).sort());
    expect(status['ttl']).toBe(3600);
    expect(Object.keys(status.data)).toEqual(Object.keys(realStatus.data));
    const realStation = realStatus.data.stations[0] as Record<string, unknown>;
    for (const s of status.data.stations) {
      expect(shapeOf(s)).toEqual(shapeOf(realStation));
      expect(Number.isInteger(s['station_id'])).toBe(true);
      const types = s['num_bikes_available_types'] as Record<string, number>[];
      expect(types.map((t) => Object.keys(t))).toEqual([['mechanical'], ['ebike']]);
      expect((types[0]?.['mechanical'] ?? 0) + (types[1]?.['ebike'] ?? 0)).toBe(s['num_bikes_available']);
      expect(s['numDocksAvailable']).toBe(s['num_docks_available']);
    }
    const info = (await json(`${h.url}/velib/station_information.json`)) as Doc;
    const realInfoShapes = new Set(
      real('station_information.json').data.stations.map((s) => JSON.stringify(shapeOf(s))),
    );
    for (const s of info.data.stations) expect(realInfoShapes.has(JSON.stringify(shapeOf(s)))).toBe(true);
  });
});
