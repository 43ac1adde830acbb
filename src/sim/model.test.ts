import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MONDAY_7H_PARIS, hasVelib, velibDir, type GbfsStatusDoc } from '../../test/sim/helpers.js';
import { generateDocuments } from './generate.js';
import { Simulation } from './simulation.js';
import { syntheticCity } from './stations.js';

const DAY = 86400;
const MONDAY_MIDNIGHT_PARIS = MONDAY_7H_PARIS - 7 * 3600;

function statusDocs(opts: Parameters<typeof generateDocuments>[0]): GbfsStatusDoc[] {
  return [...generateDocuments(opts)].map((d) => d.statusDoc as GbfsStatusDoc);
}

/** Net count changes summed over stations between consecutive states, per local hour of the day. */
function changesByHour(sim: Simulation, fromSec: number, days: number, tzOffsetSec: number): number[] {
  const hours = new Array<number>(24).fill(0);
  const m = sim.model;
  let prevM = m.mechanical.slice();
  let prevE = m.electric.slice();
  for (let t = fromSec + m.stepSec; t <= fromSec + days * DAY; t += m.stepSec) {
    sim.advanceTo(t);
    const h = Math.floor(((((t - m.stepSec + tzOffsetSec) % DAY) + DAY) % DAY) / 3600);
    for (let i = 0; i < m.count; i++) {
      hours[h] =
        (hours[h] as number) +
        Math.abs((m.mechanical[i] as number) - (prevM[i] as number)) +
        Math.abs((m.electric[i] as number) - (prevE[i] as number));
    }
    prevM = m.mechanical.slice();
    prevE = m.electric.slice();
  }
  return hours;
}

describe('synthetic city', () => {
  it('builds 200 distinct stations with capacities 12–40, busy centre and quiet edge', () => {
    const stations = syntheticCity(1);
    expect(stations).toHaveLength(200);
    expect(new Set(stations.map((s) => s.stationId)).size).toBe(200);
    expect(new Set(stations.map((s) => s.code)).size).toBe(200);
    expect(new Set(stations.map((s) => s.name)).size).toBe(200);
    for (const s of stations) {
      expect(s.capacity).toBeGreaterThanOrEqual(12);
      expect(s.capacity).toBeLessThanOrEqual(40);
      expect(String(s.numericId)).toBe(s.stationId);
    }
    const byBusy = [...stations].sort((a, b) => b.busyness - a.busyness);
    expect((byBusy[0] as { busyness: number }).busyness).toBeGreaterThan(8);
    expect((byBusy[199] as { busyness: number }).busyness).toBeLessThan(0.8);
    expect(syntheticCity(1)).toEqual(stations);
    expect(syntheticCity(2)).not.toEqual(stations);
  });
});

describe('simulation model', () => {
  it('is deterministic for a seed, and the seed matters', () => {
    const opts = { fromSec: MONDAY_7H_PARIS, toSec: MONDAY_7H_PARIS + 6 * 3600, stepSec: 600 };
    const a = statusDocs({ ...opts, seed: 'alpha' });
    expect(a).toHaveLength(37);
    expect(statusDocs({ ...opts, seed: 'alpha' })).toEqual(a);
    expect(statusDocs({ ...opts, seed: 'beta' })).not.toEqual(a);
    expect(a.map((d) => d.last_updated)).toEqual(
      Array.from({ length: 37 }, (_, k) => MONDAY_7H_PARIS + k * 600),
    );
  });

  it('keeps every count within capacity over a week', () => {
    let checked = 0;
    const bad: string[] = [];
    const capacity = new Map<string, number>();
    for (const { statusDoc, informationDoc } of generateDocuments({
      fromSec: MONDAY_MIDNIGHT_PARIS,
      toSec: MONDAY_MIDNIGHT_PARIS + 7 * DAY,
      stepSec: 300,
      seed: 3,
    })) {
      if (informationDoc) {
        for (const s of (informationDoc as { data: { stations: { station_id: string; capacity: number }[] } })
          .data.stations) {
          capacity.set(s.station_id, s.capacity);
        }
      }
      for (const s of (statusDoc as GbfsStatusDoc).data.stations) {
        checked++;
        const cap = capacity.get(s.station_id) ?? -1;
        const types = s.vehicle_types_available.reduce((a, t) => a + t.count, 0);
        const total =
          s.num_bikes_available + s.num_bikes_disabled + s.num_docks_available + s.num_docks_disabled;
        if (
          s.num_bikes_available < 0 ||
          s.num_docks_available < 0 ||
          s.num_bikes_disabled < 0 ||
          total > cap ||
          types !== s.num_bikes_available
        ) {
          bad.push(JSON.stringify(s));
        }
      }
    }
    expect(capacity.size).toBe(200);
    expect(checked).toBe(200 * (7 * 288 + 1));
    expect(bad).toEqual([]);
  });

  it('never exceeds each station capacity: bikes + docks ≤ capacity (model arrays, 3 days)', () => {
    const sim = new Simulation({ startSec: MONDAY_MIDNIGHT_PARIS, seed: 9 });
    const m = sim.model;
    let violations = 0;
    for (let t = m.timeSec; t <= MONDAY_MIDNIGHT_PARIS + 3 * DAY; t += 60) {
      sim.advanceTo(t);
      for (let i = 0; i < m.count; i++) {
        const bikes = (m.mechanical[i] as number) + (m.electric[i] as number);
        const docks = m.docksAvailable(i);
        if (
          bikes < 0 ||
          docks < 0 ||
          bikes + docks > (m.capacity[i] as number) ||
          (m.mechanical[i] as number) < 0 ||
          (m.electric[i] as number) < 0
        ) {
          violations++;
        }
      }
    }
    expect(violations).toBe(0);
  });

  it('is much busier at 8:00 on a weekday than at 3:00, and flatter at the weekend', () => {
    const sim = new Simulation({ startSec: MONDAY_MIDNIGHT_PARIS, seed: 5 });
    const weekday = changesByHour(sim, MONDAY_MIDNIGHT_PARIS, 1, 2 * 3600); // October: UTC+2
    expect(weekday[8] as number).toBeGreaterThan(8 * (weekday[3] as number));
    expect(weekday[18] as number).toBeGreaterThan(1.4 * (weekday[14] as number));
    const saturday = MONDAY_MIDNIGHT_PARIS + 5 * DAY;
    const weekend = changesByHour(new Simulation({ startSec: saturday, seed: 5 }), saturday, 1, 2 * 3600);
    expect(weekend[15] as number).toBeGreaterThan(weekend[8] as number);
    expect(weekday[8] as number).toBeGreaterThan(1.5 * (weekend[8] as number));
  });

  it('rebalances: the network neither drains nor clogs over two weeks', () => {
    const sim = new Simulation({ startSec: MONDAY_MIDNIGHT_PARIS, seed: 11 });
    const start = sim.totals();
    sim.advanceTo(MONDAY_MIDNIGHT_PARIS + 14 * DAY);
    const end = sim.totals();
    expect(end.bikes / start.bikes).toBeGreaterThan(0.6);
    expect(end.bikes / start.bikes).toBeLessThan(1.6);
    const m = sim.model;
    let empty = 0;
    let full = 0;
    for (let i = 0; i < m.count; i++) {
      if ((m.mechanical[i] as number) + (m.electric[i] as number) === 0) empty++;
      if (m.docksAvailable(i) === 0) full++;
    }
    expect(empty).toBeLessThan(0.2 * m.count);
    expect(full).toBeLessThan(0.2 * m.count);
  });

  it('moves e-bikes and mechanical bikes', () => {
    const docs = statusDocs({
      fromSec: MONDAY_7H_PARIS,
      toSec: MONDAY_7H_PARIS + 3 * 3600,
      stepSec: 3 * 3600,
      seed: 2,
    });
    const [a, b] = docs as [GbfsStatusDoc, GbfsStatusDoc];
    const sum = (d: GbfsStatusDoc, type: string) =>
      d.data.stations.reduce(
        (acc, s) => acc + (s.vehicle_types_available.find((t) => t.vehicle_type_id === type)?.count ?? 0),
        0,
      );
    expect(sum(a, 'electric')).toBeGreaterThan(0);
    expect(sum(a, 'mechanical')).toBeGreaterThan(0);
    const changed = (type: string) =>
      a.data.stations.filter(
        (s, i) =>
          JSON.stringify(s.vehicle_types_available.find((t) => t.vehicle_type_id === type)) !==
          JSON.stringify(b.data.stations[i]?.vehicle_types_available.find((t) => t.vehicle_type_id === type)),
      ).length;
    expect(changed('electric')).toBeGreaterThan(50);
    expect(changed('mechanical')).toBeGreaterThan(50);
  });
});

describe.skipIf(!hasVelib)('real stations (Vélib snapshot)', () => {
  it('loads 1,495 stations from the directory, starting from the real counts', async () => {
    const { readFileSync } = await import('node:fs');
    const real = JSON.parse(readFileSync(path.join(velibDir, 'station_status.json'), 'utf8')) as {
      data: { stations: { station_id: number; num_bikes_available: number; is_renting: number }[] };
    };
    const sim = new Simulation({ startSec: MONDAY_7H_PARIS, stations: { path: velibDir } });
    expect(sim.stations).toHaveLength(1495);
    const first = sim.document('velib', 'station_status') as typeof real;
    const realById = new Map(real.data.stations.map((s) => [s.station_id, s]));
    for (const s of first.data.stations) {
      const r = realById.get(s.station_id);
      expect(r, `station ${s.station_id}`).toBeDefined();
      expect(s.num_bikes_available).toBe(r?.num_bikes_available);
      expect(s.is_renting).toBe(r?.is_renting);
    }
    // And the counts stay within each station's capacity a day later.
    sim.advanceTo(MONDAY_7H_PARIS + DAY);
    const m = sim.model;
    for (let i = 0; i < m.count; i++) {
      expect(m.docksAvailable(i)).toBeGreaterThanOrEqual(0);
      expect((m.mechanical[i] as number) + (m.electric[i] as number)).toBeLessThanOrEqual(
        m.capacity[i] as number,
      );
    }
  });
});
