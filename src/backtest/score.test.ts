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

  it('adds blocked-docks faults after the others, leaving every other fault of the seed as it was', () => {
    const plain = planFaults(stations, opts);
    const more = planFaults(stations, { ...opts, blockedDocksFaults: 8, stuckMaxDurationSec: 5 * 86_400 });
    const docks = more.filter((f): f is StationFault => f.kind === 'docks_blocked');
    expect(docks).toHaveLength(8);
    const stuckLonger = planFaults(stations, { ...opts, stuckMaxDurationSec: 5 * 86_400 });
    // Longer stuck faults change only stuck faults and what is drawn after them.
    for (const kind of ['locked', 'rent_blocked', 'return_blocked'])
      expect(stuckLonger.filter((f) => f.kind === kind)).toEqual(plain.filter((f) => f.kind === kind));
    expect(more.filter((f) => f.kind !== 'docks_blocked')).toEqual(stuckLonger);
    for (const f of docks) expect([f.stuckBikes >= 1, f.stuckBikes <= 3]).toEqual([true, true]);
  });
});

describe('scoreDetector: stuck bikes and blocked docks', () => {
  it('scores stuck alarms apart: hits on stuck faults, never masking nor inflating lock alarms', () => {
    const faults: Fault[] = [
      {
        id: 1,
        kind: 'stuck_bikes',
        stationId: 'a',
        startSec: 100 * H,
        endSec: 130 * H,
        eventsPerHour: 2,
        stuckBikes: 1,
        deniedEvents: 3,
      },
      {
        id: 2,
        kind: 'locked',
        stationId: 'b',
        startSec: 100 * H,
        endSec: 110 * H,
        eventsPerHour: 2,
        stuckBikes: 0,
      },
    ];
    const exposure = [
      { stationId: 'a', eventsPerHour: 2, uninjectedSec: 50 * 86_400 },
      { stationId: 'b', eventsPerHour: 2, uninjectedSec: 50 * 86_400 },
    ];
    const changes = [
      change('b', 90 * H, 'ok', 'bikes_stuck'), // a real stuck bike at b, before b's lock
      change('b', 104 * H, 'bikes_stuck', 'locked'), // the lock is still found (not masked)
      change('b', 111 * H, 'locked', 'ok'),
      change('a', 120 * H, 'ok', 'bikes_stuck'), // hit, 20 h after the start
      change('a', 131 * H, 'bikes_stuck', 'ok'),
    ];
    const s = scoreDetector('d', faults, episodesFrom(changes), exposure, 500 * H);
    expect(s.byKind.locked.detected).toBe(1);
    expect(s.byKind.locked.delayMedianSec).toBe(4 * H);
    expect(s.byKind.stuck_bikes.detected).toBe(1);
    expect(s.byKind.stuck_bikes.rightState).toBe(1);
    expect(s.goalStuckVisible.recall).toBe(1);
    expect(s.byKind.stuck_bikes.delayMedianSec).toBe(20 * H);
    // b's stuck alarm is unexplained, in its own family; the lock family has none.
    expect(s.falseAlarms.alarms).toBe(0);
    expect(s.stuckAlarms).toMatchObject({ hits: 1, unexplained: 1 });
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

describe('scoreDetector: goal set, all alarms, outages', () => {
  const lock = (
    id: number,
    stationId: string,
    startH: number,
    endH: number,
    expectedEvents: number,
  ): Fault => ({
    id,
    kind: 'locked',
    stationId,
    startSec: startH * H,
    endSec: endH * H,
    eventsPerHour: 3, // busy on average over the day…
    stuckBikes: 0,
    expectedEvents, // …but what matters is the window
    firstExpectedSec: expectedEvents >= 1 ? startH * H + H : null,
    realEvents: expectedEvents,
  });
  const exposure = ['a', 'b', 'c'].map((stationId) => ({
    stationId,
    eventsPerHour: 3,
    uninjectedSec: 100 * 86_400,
  }));

  it('puts in the goal set only locks whose window usually sees ≥ 1 event/h, and measures delay after due', () => {
    const faults = [lock(1, 'a', 100, 104, 0.4), lock(2, 'b', 100, 104, 12)]; // a: a night lock
    const changes = [change('b', 103 * H, 'ok', 'locked'), change('b', 105 * H, 'locked', 'ok')];
    const s = scoreDetector('d', faults, episodesFrom(changes), exposure, 500 * H);
    expect(s.goalLocks.faults).toBe(1);
    expect(s.goalLocks.recall).toBe(1);
    expect(s.goalLocks.delayMedianSec).toBe(3 * H);
    expect(s.goalLocks.delayAfterDueMedianSec).toBe(2 * H);
    expect(s.goalLocksStationAverage.faults).toBe(2); // the all-day average would count the night lock
    expect(s.outcomes.find((o) => o.faultId === 1)!.windowPerHour).toBeCloseTo(0.1);
  });

  it('sorts every alarm into hits, late, outage and unexplained (short ones apart)', () => {
    const faults: Fault[] = [
      lock(1, 'a', 100, 104, 12),
      { id: 9, kind: 'outage', startSec: 300 * H, endSec: 301 * H },
    ];
    const changes = [
      change('a', 101 * H, 'ok', 'locked'), // hit
      change('a', 101.5 * H, 'locked', 'ok'),
      change('a', 103 * H, 'ok', 'locked'), // a second hit episode (flapping)
      change('a', 103.5 * H, 'locked', 'ok'),
      change('a', 105 * H, 'ok', 'locked'), // late: after the end
      change('a', 107 * H, 'locked', 'ok'),
      change('b', 300.5 * H, 'ok', 'locked'), // outage
      change('b', 302 * H, 'locked', 'ok'),
      change('c', 200 * H, 'ok', 'locked'), // unexplained, short
      change('c', 200.5 * H, 'locked', 'ok'),
      change('c', 250 * H, 'ok', 'locked'), // unexplained, long
      change('c', 260 * H, 'locked', 'ok'),
    ];
    const s = scoreDetector('d', faults, episodesFrom(changes), exposure, 500 * H);
    expect(s.alarmsAll).toEqual({
      hits: 2,
      late: 1,
      outage: 1,
      unexplained: 2,
      unexplainedUnder1h: 1,
      precisionAll: 2 / 6,
    });
  });

  it('does not blame an outage for an alarm whose silence began long before it', () => {
    const faults: Fault[] = [{ id: 9, kind: 'outage', startSec: 300 * H, endSec: 301 * H }];
    const withSilence = (c: StateChange, inactiveSec: number): StateChange => ({
      ...c,
      evidence: { expected: 20, observed: 0, inactiveSec },
    });
    const changes = [
      withSilence(change('b', 300.5 * H, 'ok', 'locked'), 20 * H), // silent since 280 h: not the outage
      change('b', 302 * H, 'locked', 'ok'),
      withSilence(change('c', 301.5 * H, 'ok', 'locked'), 1.5 * H), // silent since 300 h: the outage
      change('c', 303 * H, 'locked', 'ok'),
    ];
    const s = scoreDetector('d', faults, episodesFrom(changes), exposure, 500 * H);
    expect(s.outages.alarms).toBe(1);
    expect(s.falseAlarms.alarms).toBe(1);
    expect(s.unexplainedTop[0]!.stationId).toBe('b');
  });
});
