/**
 * Every fault of the simulator, over real HTTP on 127.0.0.1, with simulated time moved by hand
 * (speed 0) so that the test does not depend on timing. Ground truth comes from GET /control/state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, Simulation, type SimulatorHandle } from '../../src/sim/index.js';
import {
  MONDAY_7H_PARIS,
  fetchState,
  fetchStatus,
  stationsById,
  typeCount,
  type GbfsStatusDoc,
} from './helpers.js';

const SEED = 'faults';
let sim: SimulatorHandle | null = null;
afterEach(async () => {
  await sim?.close();
  sim = null;
});

async function start(): Promise<SimulatorHandle> {
  sim = await startSimulator({ seed: SEED, startSec: MONDAY_7H_PARIS, speed: 0 });
  return sim;
}

/** The busiest stations whose fill is between 30 % and 70 %: they would certainly move during the test. */
function busyStations(h: SimulatorHandle, n: number): string[] {
  const m = h.simulation.model;
  return h.simulation.stations
    .map((s, i) => ({
      id: s.stationId,
      busy: s.busyness,
      fill: ((m.mechanical[i] as number) + (m.electric[i] as number)) / s.capacity,
    }))
    .filter((s) => s.fill > 0.3 && s.fill < 0.7)
    .sort((a, b) => b.busy - a.busy)
    .slice(0, n)
    .map((s) => s.id);
}

/** Documents every `everySec` for `totalSec`, fetched over HTTP. */
async function walk(h: SimulatorHandle, everySec: number, totalSec: number): Promise<GbfsStatusDoc[]> {
  const docs = [await fetchStatus(h.url)];
  for (let t = everySec; t <= totalSec; t += everySec) {
    h.advanceSec(everySec);
    docs.push(await fetchStatus(h.url));
  }
  return docs;
}

function series(
  docs: GbfsStatusDoc[],
  id: string,
  pick: (s: ReturnType<typeof stationsById> extends Map<string, infer S> ? S : never) => number,
): number[] {
  return docs.map((d) => pick(stationsById(d).get(id) as Parameters<typeof pick>[0]));
}

/** The same station in a fault-free run of the same seed: what would have happened. */
function unfaulted(
  id: string,
  everySec: number,
  totalSec: number,
  pick: 'bikes' | 'mechanical' = 'bikes',
): number[] {
  const twin = new Simulation({ seed: SEED, startSec: MONDAY_7H_PARIS });
  const i = twin.stations.findIndex((s) => s.stationId === id);
  const out: number[] = [];
  for (let t = 0; t <= totalSec; t += everySec) {
    twin.advanceTo(MONDAY_7H_PARIS + t);
    const m = twin.model.mechanical[i] as number;
    out.push(pick === 'mechanical' ? m : m + (twin.model.electric[i] as number));
  }
  return out;
}

const distinct = (xs: number[]) => new Set(xs).size;

describe('station faults (flags stay OK)', () => {
  it('locked: the station is frozen while others move, then moves again', async () => {
    const h = await start();
    const [locked, other] = busyStations(h, 2) as [string, string];
    const id = h.injectFault({ kind: 'locked', stationId: locked, durationSec: 3 * 3600 });
    const during = await walk(h, 600, 3 * 3600);
    const bikes = series(during, locked, (s) => s.num_bikes_available);
    const docks = series(during, locked, (s) => s.num_docks_available);
    expect(distinct(bikes)).toBe(1);
    expect(distinct(docks)).toBe(1);
    expect(distinct(unfaulted(locked, 600, 3 * 3600))).toBeGreaterThan(1); // it would have moved
    expect(distinct(series(during, other, (s) => s.num_bikes_available))).toBeGreaterThan(1);
    for (const d of during) {
      const s = stationsById(d).get(locked);
      expect([s?.is_installed, s?.is_renting, s?.is_returning]).toEqual([true, true, true]);
    }
    // Other stations follow exactly the fault-free run: per-station random streams.
    expect(series(during, other, (s) => s.num_bikes_available)).toEqual(unfaulted(other, 600, 3 * 3600));
    const truth = (await fetchState(h.url)).faults.find((f) => f['id'] === id);
    expect(truth).toMatchObject({
      kind: 'locked',
      stationId: locked,
      startSec: MONDAY_7H_PARIS,
      endSec: MONDAY_7H_PARIS + 3 * 3600,
      status: 'ended',
    });
    const after = await walk(h, 600, 3 * 3600);
    expect(distinct(series(after, locked, (s) => s.num_bikes_available))).toBeGreaterThan(1);
  });

  it('rent-only lock: bikes never leave, returns still arrive', async () => {
    const h = await start();
    const [station] = busyStations(h, 1) as [string];
    h.injectFault({ kind: 'rent_only_lock', stationId: station, durationSec: 2 * 3600 });
    const bikes = series(
      await walk(h, 300, 2 * 3600),
      station,
      (s) => s.num_bikes_available + s.num_bikes_disabled,
    );
    for (let k = 1; k < bikes.length; k++) expect(bikes[k]).toBeGreaterThanOrEqual(bikes[k - 1] as number);
    expect(bikes.at(-1)).toBeGreaterThan(bikes[0] as number);
  });

  it('return-only lock: bikes never arrive, rentals still happen', async () => {
    const h = await start();
    const [station] = busyStations(h, 1) as [string];
    h.injectFault({ kind: 'return_only_lock', stationId: station, durationSec: 2 * 3600 });
    const docs = await walk(h, 300, 2 * 3600);
    const bikes = series(docs, station, (s) => s.num_bikes_available);
    const docks = series(docs, station, (s) => s.num_docks_available);
    for (let k = 1; k < bikes.length; k++) {
      expect(bikes[k]).toBeLessThanOrEqual(bikes[k - 1] as number);
      expect(docks[k]).toBeGreaterThanOrEqual(docks[k - 1] as number);
    }
    expect(bikes.at(-1)).toBeLessThan(bikes[0] as number);
  });

  it('stuck bikes: k bikes of the type never leave while the others do', async () => {
    const h = await start();
    const [station] = busyStations(h, 1) as [string];
    // k chosen so that, without the fault, the station would have fallen below k mechanical bikes.
    const k = Math.min(...unfaulted(station, 300, 6 * 3600, 'mechanical')) + 2;
    const id = h.injectFault({
      kind: 'stuck_bikes',
      stationId: station,
      count: k,
      bikeType: 'mechanical',
      durationSec: 6 * 3600,
    });
    const docs = await walk(h, 300, 6 * 3600);
    const mech = series(docs.slice(1), station, (s) => typeCount(s, 'mechanical'));
    expect(Math.min(...mech)).toBeGreaterThanOrEqual(k);
    expect(distinct(series(docs, station, (s) => s.num_bikes_available))).toBeGreaterThan(1);
    const truth = (await fetchState(h.url)).faults.find((f) => f['id'] === id);
    expect(truth).toMatchObject({ kind: 'stuck_bikes', count: k, bikeType: 'mechanical', status: 'ended' });
  });

  it('can be cleared early over HTTP: the ground truth records when', async () => {
    const h = await start();
    const [station] = busyStations(h, 1) as [string];
    const post = await fetch(`${h.url}/control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'locked', stationId: station }),
    });
    expect(post.status).toBe(201);
    const { id } = (await post.json()) as { id: string };
    expect((await fetchState(h.url)).faults).toMatchObject([{ id, status: 'active', endSec: null }]);
    h.advanceSec(1800);
    expect((await fetch(`${h.url}/control/faults/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${h.url}/control/faults/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetchState(h.url)).faults).toMatchObject([
      { id, status: 'cleared', startSec: MONDAY_7H_PARIS, endSec: MONDAY_7H_PARIS + 1800 },
    ]);
  });

  it('scheduled faults are pending until their start', async () => {
    const h = await start();
    const [station] = busyStations(h, 1) as [string];
    h.injectFault({ kind: 'locked', stationId: station, startInSec: 3600, durationSec: 600 });
    expect((await fetchState(h.url)).faults[0]).toMatchObject({
      status: 'pending',
      startSec: MONDAY_7H_PARIS + 3600,
    });
    h.advanceSec(3600);
    expect((await fetchState(h.url)).faults[0]).toMatchObject({ status: 'active' });
    h.advanceSec(600);
    expect((await fetchState(h.url)).faults[0]).toMatchObject({ status: 'ended' });
    const id = (await fetchState(h.url)).faults[0]?.['id'] as string;
    expect((await fetch(`${h.url}/control/faults/${id}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('feed faults', () => {
  it('outage (503) for its duration, then recovery', async () => {
    const h = await start();
    h.injectFault({ kind: 'outage', durationSec: 600 });
    for (const path of ['/station_status.json', '/gbfs.json', '/velib/station_status.json']) {
      const res = await fetch(`${h.url}${path}`);
      expect(res.status).toBe(503);
      await res.arrayBuffer();
    }
    expect((await fetchState(h.url)).faults[0]).toMatchObject({ kind: 'outage', status: 'active' });
    h.advanceSec(600);
    const doc = await fetchStatus(h.url);
    expect(doc.last_updated).toBe(MONDAY_7H_PARIS + 600);
  });

  it('outage by connection reset, then recovery', async () => {
    const h = await start();
    h.injectFault({ kind: 'outage', mode: 'reset', durationSec: 300 });
    await expect(fetch(`${h.url}/station_status.json`)).rejects.toThrow();
    h.advanceSec(300);
    expect((await fetchStatus(h.url)).data.stations).toHaveLength(200);
  });

  it('malformed: garbage, truncated, wrong shape for N requests, then good documents', async () => {
    const h = await start();
    const id = h.injectFault({ kind: 'malformed', requests: 3 });
    const bodies: string[] = [];
    for (let k = 0; k < 3; k++) {
      const res = await fetch(`${h.url}/station_status.json`);
      expect(res.status).toBe(200);
      bodies.push(await res.text());
    }
    expect((): unknown => JSON.parse(bodies[0] as string)).toThrow(); // garbage
    expect((): unknown => JSON.parse(bodies[1] as string)).toThrow(); // truncated
    expect((bodies[1] as string).startsWith('{"last_updated":')).toBe(true);
    const wrong = JSON.parse(bodies[2] as string) as { data?: { stations?: unknown } };
    expect(Array.isArray(wrong.data?.stations)).toBe(false);
    // Other feeds were not touched, and the next status document is good again.
    expect((await fetch(`${h.url}/station_information.json`)).status).toBe(200);
    expect((await fetchStatus(h.url)).data.stations).toHaveLength(200);
    expect((await fetchState(h.url)).faults.find((f) => f['id'] === id)).toMatchObject({
      status: 'ended',
      requestsServed: 3,
      requestsLeft: 0,
    });
  });

  it('frozen timestamp: last_updated stops while the data changes, then resumes', async () => {
    const h = await start();
    h.advanceSec(600);
    h.injectFault({ kind: 'frozen_timestamp', durationSec: 1800 });
    const docs = await walk(h, 300, 1800);
    const during = docs.slice(0, -1);
    expect(new Set(during.map((d) => d.last_updated))).toEqual(new Set([MONDAY_7H_PARIS + 600]));
    expect(new Set(during.map((d) => JSON.stringify(d.data))).size).toBe(during.length);
    expect(docs.at(-1)?.last_updated).toBe(MONDAY_7H_PARIS + 2400);
  });
});

describe('control endpoint errors', () => {
  it.each([
    ['not json', 'bad_json'],
    [JSON.stringify({ kind: 'melted' }), 'invalid_fault'],
    [JSON.stringify({ kind: 'locked', stationId: 'no-such-station' }), 'invalid_fault'],
    [JSON.stringify({ kind: 'stuck_bikes', stationId: 'x', count: -1 }), 'invalid_fault'],
  ])('POST %s → 400 %s', async (body, code) => {
    const h = await start();
    const res = await fetch(`${h.url}/control/faults`, { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe(code);
    expect((await fetchState(h.url)).faults).toEqual([]);
  });

  it('rejects stuck bikes beyond the capacity and unknown control routes', async () => {
    const h = await start();
    const station = h.simulation.stations[0] as { stationId: string; capacity: number };
    expect(() =>
      h.injectFault({ kind: 'stuck_bikes', stationId: station.stationId, count: station.capacity + 1 }),
    ).toThrow(/capacity/);
    expect((await fetch(`${h.url}/control/nothing`)).status).toBe(404);
    expect((await fetch(`${h.url}/control/state`, { method: 'PUT' })).status).toBe(405);
  });
});
