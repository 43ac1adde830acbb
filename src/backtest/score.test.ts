import { describe, expect, it } from 'vitest';
import type { StateChange } from '../detection/types.js';
import { episodesFrom } from './episodes.js';
import { planFaults, type Fault, type StationFault, type StationSummary } from './faults.js';
import { scoreDetector } from './score.js';

const H = 3600;
const change = (
  stationId: string,
  timeSec: number,
  from: StateChange['from'],
  to: StateChange['to'],
): StateChange => ({
  system: 's',
  stationId,
  timeSec,
  from,
  to,
  detector: 'd',
  confidence: 0.99,
  reason: 'x',
  evidence: null,
  offset: timeSec,
});

describe('planFaults', () => {
  const stations: StationSummary[] = Array.from({ length: 40 }, (_, i) => ({
    stationId: `s${i}`,
    eventsPerHour: [0.1, 0.5, 2, 4][i % 4]!,
    firstSeenSec: 0,
    lastSeenSec: 40 * 86_400,
  }));
  const opts = {
    seed: 7,
    startSec: 0,
    endSec: 40 * 86_400,
    warmupSec: 8 * 86_400,
    faultsPerKind: 20,
    outages: 5,
  };

  it('is reproducible from the seed, and another seed gives another plan', () => {
    expect(planFaults(stations, opts)).toEqual(planFaults(stations, opts));
    expect(planFaults(stations, { ...opts, seed: 8 })).not.toEqual(planFaults(stations, opts));
  });

  it('stratifies by busyness, respects the warm-up, durations and separation', () => {
    const plan = planFaults(stations, opts);
    const station = plan.filter((f): f is StationFault => f.kind !== 'outage');
    expect(station).toHaveLength(80);
    for (const band of [0.1, 0.5, 2, 4])
      expect(station.filter((f) => f.eventsPerHour === band)).toHaveLength(20);
    for (const f of plan) {
      expect(f.startSec).toBeGreaterThanOrEqual(8 * 86_400);
      expect(f.endSec).toBeLessThanOrEqual(40 * 86_400);
      const d = f.endSec - f.startSec;
      if (f.kind === 'outage') expect([d >= 600, d <= 3 * H]).toEqual([true, true]);
      else expect([d >= H, d <= 24 * H]).toEqual([true, true]);
    }
    for (const a of station)
      for (const b of station) {
        if (a === b || a.stationId !== b.stationId) continue;
        expect(a.startSec >= b.endSec + 86_400 || b.startSec >= a.endSec + 86_400).toBe(true);
      }
  });
});

describe('scoreDetector', () => {
  const faults: Fault[] = [
    {
      id: 1,
      kind: 'locked',
      stationId: 'a',
      startSec: 100 * H,
      endSec: 110 * H,
      eventsPerHour: 2,
      stuckBikes: 0,
    },
    {
      id: 2,
      kind: 'locked',
      stationId: 'b',
      startSec: 100 * H,
      endSec: 103 * H,
      eventsPerHour: 2,
      stuckBikes: 0,
    },
    { id: 3, kind: 'outage', startSec: 200 * H, endSec: 201 * H },
  ];
  const exposure = [
    { stationId: 'a', eventsPerHour: 2, uninjectedSec: 50 * 86_400 },
    { stationId: 'b', eventsPerHour: 2, uninjectedSec: 50 * 86_400 },
  ];

  it('counts hits with their delay, misses, outage alarms and unexplained alarms apart', () => {
    const changes = [
      change('a', 104 * H, 'ok', 'rent_blocked'),
      change('a', 105 * H, 'rent_blocked', 'locked'), // same episode
      change('a', 111 * H, 'locked', 'ok'),
      change('b', 90 * H, 'ok', 'locked'), // unexplained, in b's neighbourhood
      change('b', 91 * H, 'locked', 'ok'),
      change('a', 200.5 * H, 'ok', 'locked'), // during the outage
      change('a', 202 * H, 'locked', 'ok'),
      change('b', 400 * H, 'ok', 'return_blocked'), // unexplained, still open at the end
    ];
    const s = scoreDetector('d', faults, episodesFrom(changes), exposure, 500 * H);
    const locked = s.byKind.locked;
    expect([locked.faults, locked.detected, locked.recall]).toEqual([2, 1, 0.5]);
    expect(locked.delayMedianSec).toBe(4 * H);
    expect(locked.rightState).toBe(0); // first state was rent_blocked
    expect(locked.precision).toBeCloseTo(1 / 2); // a's hit vs b's unexplained alarm in its neighbourhood
    expect(s.outages.alarms).toBe(1);
    expect(s.falseAlarms.alarms).toBe(2);
    expect(s.falseAlarms.per100StationDays).toBeCloseTo(2);
    expect(s.unexplainedTop[0]).toMatchObject({ stationId: 'b', alarms: 2 });
  });
});
