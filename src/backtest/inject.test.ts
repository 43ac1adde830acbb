import { describe, expect, it } from 'vitest';
import type { StationStatus, StatusDocument } from '../feed/model.js';
import type { Fault, StationFault } from './faults.js';
import { FaultInjector } from './inject.js';

/** A hand-made station trace: [mechanical, electric, docksAvailable] every 10 minutes from t=0. */
function trace(counts: Array<[number, number, number]>, stationId = 'a'): StatusDocument[] {
  return counts.map(([m, e, d], i) => ({
    lastUpdatedSec: i * 600,
    ttlSec: 60,
    version: '2.3',
    stations: [station(stationId, m, e, d), station('other', 5, 0, 5)],
  }));
}

function station(stationId: string, m: number, e: number, d: number): StationStatus {
  return {
    stationId,
    code: null,
    bikes: { mechanical: m, electric: e, other: 0 },
    bikesDisabled: 0,
    docksAvailable: d,
    docksDisabled: 0,
    isInstalled: true,
    isRenting: false, // faults keep the flags "OK": the injector must set them
    isReturning: true,
    lastReportedSec: null,
  };
}

function fault(kind: StationFault['kind'], startSec: number, endSec: number, stuckBikes = 0): StationFault {
  return { id: 1, kind, stationId: 'a', startSec, endSec, eventsPerHour: 2, stuckBikes };
}

function run(faults: Fault[], docs: StatusDocument[]): StatusDocument[] {
  const inj = new FaultInjector(faults);
  const out: StatusDocument[] = [];
  for (const d of docs) {
    const r = inj.apply(d);
    if (r) out.push(r);
  }
  return out;
}

const at = (docs: StatusDocument[], id = 'a') =>
  docs.map((d) => {
    const s = d.stations.find((x) => x.stationId === id)!;
    return [s.bikes.mechanical, s.bikes.electric, s.docksAvailable];
  });

// Busy real trace: rentals and returns both ways, capacity 10.
const REAL: Array<[number, number, number]> = [
  [4, 2, 4],
  [3, 2, 5],
  [5, 2, 3],
  [2, 1, 7],
  [6, 3, 1],
  [7, 3, 0],
  [1, 0, 9],
  [3, 1, 6],
  [2, 2, 6],
];

describe('FaultInjector', () => {
  it('locked: the station stays frozen at its state before the fault, flags OK, then recovers', () => {
    const out = run([fault('locked', 1200, 4200)], trace(REAL));
    const a = at(out);
    expect(a.slice(0, 2)).toEqual([REAL[0], REAL[1]]);
    for (let i = 2; i < 7; i++) expect(a[i]).toEqual(REAL[1]); // t = 1200 … 3600 frozen
    expect(a.slice(7)).toEqual([REAL[7], REAL[8]]);
    for (let i = 2; i < 7; i++) {
      const s = out[i]!.stations[0]!;
      expect([s.isInstalled, s.isRenting, s.isReturning]).toEqual([true, true, true]);
    }
    expect(out[0]!.stations[0]!.isRenting).toBe(false); // outside the fault the trace is untouched
    expect(at(out, 'other').every((c) => c[0] === 5)).toBe(true);
  });

  it('rent_blocked: bikes never decrease, rise only by real returns, never beyond capacity', () => {
    const out = run([fault('rent_blocked', 600, 99_999)], trace(REAL));
    const a = at(out);
    for (let i = 2; i < a.length; i++) {
      expect(a[i]![0]).toBeGreaterThanOrEqual(a[i - 1]![0]!);
      expect(a[i]![1]).toBeGreaterThanOrEqual(a[i - 1]![1]!);
      expect(a[i]![0]! + a[i]![1]! + a[i]![2]!).toBe(10);
    }
    // Starts from [4,2,4]; real returns: +2 m (t3), then +4 m +2 e (t5) capped at 10 bikes.
    expect(a[1]).toEqual([4, 2, 4]);
    expect(a[2]).toEqual([6, 2, 2]);
    expect(a[4]).toEqual([8, 2, 0]);
    expect(a[8]).toEqual([8, 2, 0]);
  });

  it('return_blocked: bikes never increase, fall only by real rentals, never below zero', () => {
    const out = run([fault('return_blocked', 600, 99_999)], trace(REAL));
    const a = at(out);
    for (let i = 2; i < a.length; i++) {
      expect(a[i]![0]).toBeLessThanOrEqual(a[i - 1]![0]!);
      expect(a[i]![1]).toBeLessThanOrEqual(a[i - 1]![1]!);
      expect(Math.min(...a[i]!)).toBeGreaterThanOrEqual(0);
      expect(a[i]![0]! + a[i]![1]! + a[i]![2]!).toBe(10);
    }
    expect(a[1]).toEqual([3, 2, 5]); // real rental of one mechanical
    expect(a[3]).toEqual([0, 1, 9]); // -3 m (floored at 0), -1 e
    expect(a[8]).toEqual([0, 0, 10]);
  });

  it('stuck_bikes: the pinned type never drops below k, other moves stay real', () => {
    const out = run([fault('stuck_bikes', 600, 99_999, 3)], trace(REAL));
    const a = at(out);
    for (let i = 1; i < a.length; i++) {
      expect(a[i]![0]).toBeGreaterThanOrEqual(3); // mechanical: the type it held most of
      expect(a[i]![0]).toBe(Math.max(3, REAL[i]![0]));
      expect(a[i]![1]).toBe(REAL[i]![1]);
    }
    expect(a[3]).toEqual([3, 1, 6]); // real 2 m → shown 3, one dock less
  });

  it('stuck_bikes: invents no bike; holds them as they dock; never beyond the slots', () => {
    const empty: Array<[number, number, number]> = [
      [0, 0, 10], // before the fault: no bike at all
      [0, 0, 10], // fault starts: nothing to hold, nothing shown
      [2, 0, 8], // two returned: both held (k = 3)
      [0, 0, 10], // real rentals of both: they could not leave
      [5, 0, 5], // five returned: a third is held
      [1, 0, 9],
    ];
    expect(at(run([fault('stuck_bikes', 600, 99_999, 3)], trace(empty)))).toEqual([
      [0, 0, 10],
      [0, 0, 10],
      [2, 0, 8],
      [2, 0, 8],
      [5, 0, 5],
      [3, 0, 7],
    ]);
    const full: Array<[number, number, number]> = [
      [4, 2, 4],
      [1, 5, 4], // 3 mechanical held: 2 more than real, 2 docks fewer
      [1, 9, 0], // real: full of e-bikes; 2 of those returns found no dock
      [6, 4, 0],
    ];
    const a = at(run([fault('stuck_bikes', 600, 99_999, 3)], trace(full)));
    expect(a).toEqual([
      [4, 2, 4],
      [3, 5, 2],
      [3, 7, 0],
      [6, 4, 0],
    ]);
    for (const c of a) expect(c[0]! + c[1]! + c[2]!).toBe(10);
  });

  it('docks_blocked: k free docks never take a bike; rentals stay real; refused returns counted', () => {
    const docs: Array<[number, number, number]> = [
      [4, 2, 4],
      [3, 2, 5], // a rental
      [9, 2, 0], // six returns: four docks work (one of the five free is broken), two refused
      [5, 2, 4], // four rentals
      [9, 2, 0], // four returns: all fit
    ];
    const inj = new FaultInjector([fault('docks_blocked', 600, 99_999, 1)]);
    const out: StatusDocument[] = [];
    for (const d of trace(docs)) out.push(inj.apply(d)!);
    const a = at(out);
    expect(a).toEqual([
      [4, 2, 4],
      [3, 2, 5],
      [7, 2, 1],
      [3, 2, 5],
      [7, 2, 1],
    ]);
    for (const c of a) expect(c[0]! + c[1]! + c[2]!).toBe(10); // never beyond the slots
    expect(inj.deniedEvents.get(1)).toBe(2);
  });

  it('outage: removes exactly the documents inside [start, end)', () => {
    const docs = trace(REAL);
    const out = run([{ id: 9, kind: 'outage', startSec: 1200, endSec: 3000 }], docs);
    expect(out.map((d) => d.lastUpdatedSec)).toEqual([0, 600, 3000, 3600, 4200, 4800]);
    expect(at(out)).toEqual([REAL[0], REAL[1], REAL[5], REAL[6], REAL[7], REAL[8]]);
  });

  it('a fault with no document inside its window changes nothing', () => {
    const out = run([fault('locked', 610, 620)], trace(REAL));
    expect(at(out)).toEqual(REAL);
  });

  it('counts the bikes the real trace moved during each fault (what the fault hid)', () => {
    const docs = trace(REAL);
    const inj = new FaultInjector([fault('locked', 1200, 3600)]);
    for (const d of docs) inj.apply(d);
    // Real moves inside [1200, 3600): docs at 1200 (vs 600), 1800, 2400, 3000.
    expect(inj.realEvents.get(1)).toBe(2 + (3 + 1) + (4 + 2) + 1);
  });
});
