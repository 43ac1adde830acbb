import { describe, expect, it } from 'vitest';
import type { FeedEvent, LoggedEvent, StatusFlag } from '../events/types.js';
import { DOC_SEC, SYSTEM, at, busy, run, trace } from '../../test/detection/scenario.js';
import { declaredStateOf } from './declared.js';
import { createDetector, detectorNames, registerDetector } from './registry.js';
import { SeedDetector } from './seed.js';
import { StationStateMachine } from './state-machine.js';
import type { DetectedState, StateChange } from './types.js';

const after = {
  bikes: { mechanical: 0, electric: 0, other: 0 },
  docksAvailable: 0,
  bikesDisabled: 0,
  docksDisabled: 0,
};
const statusChanged = (stationId: string, timeSec: number, flag: StatusFlag, to: boolean): FeedEvent => ({
  system: SYSTEM,
  timeSec,
  type: 'status_changed',
  stationId,
  after,
  flag,
  from: !to,
  to,
});

let offset = 0;
const logged = (e: FeedEvent): LoggedEvent => ({ ...e, offset: ++offset });
const detected = (
  stationId: string,
  from: DetectedState,
  to: DetectedState,
  timeSec: number,
): StateChange => ({
  system: SYSTEM,
  stationId,
  timeSec,
  from,
  to,
  detector: 'seed',
  confidence: 0.7,
  reason: 'missing_activity',
  evidence: null,
  offset,
});
const brief = (c: StateChange) => `${c.stationId}:${c.from}>${c.to}:${c.detector}:${c.reason}`;

describe('declaredStateOf', () => {
  it('maps the feed flags to the declared state', () => {
    expect(declaredStateOf({ installed: false, renting: true, returning: true })).toBe('closed');
    expect(declaredStateOf({ installed: true, renting: false, returning: false })).toBe('inactive');
    expect(declaredStateOf({ installed: true, renting: false, returning: true })).toBe('not_renting');
    expect(declaredStateOf({ installed: true, renting: true, returning: false })).toBe('not_returning');
    expect(declaredStateOf({ installed: true, renting: true, returning: true })).toBe('open');
  });
});

describe('StationStateMachine', () => {
  it('a declared problem masks detection, signed feed with confidence 1, and never repeats a state', () => {
    const m = new StationStateMachine(SYSTEM);
    const added = logged({
      system: SYSTEM,
      timeSec: 100,
      type: 'station_added',
      stationId: 'a',
      after,
      flags: { installed: true, renting: true, returning: true },
      info: null,
    });
    expect(m.apply(added, [])).toEqual([]);
    const snap = logged({ system: SYSTEM, timeSec: 200, type: 'snapshot', stations: 1, intervalSec: 100 });
    expect(m.apply(snap, [detected('a', 'learning', 'ok', 200)]).map(brief)).toEqual([
      'a:learning>ok:seed:missing_activity',
    ]);
    const snap2 = logged({ ...snap, timeSec: 300 });
    const lock = m.apply(snap2, [detected('a', 'ok', 'locked', 300)]);
    expect(lock).toMatchObject([
      { from: 'ok', to: 'locked', confidence: 0.7, offset: snap2.offset, timeSec: 300 },
    ]);
    // The same detected state again: nothing.
    expect(m.apply(logged({ ...snap, timeSec: 350 }), [detected('a', 'ok', 'locked', 350)])).toEqual([]);

    // The feed closes the station; the detector drops its lock in the same event: one change only.
    const closed = logged(statusChanged('a', 400, 'installed', false));
    const c1 = m.apply(closed, [{ ...detected('a', 'locked', 'ok', 400), reason: 'feed_declared' }]);
    expect(c1.map(brief)).toEqual(['a:locked>closed:feed:feed_declared']);
    expect(c1[0]).toMatchObject({ confidence: 1, evidence: null, offset: closed.offset });
    // Detection while declared changes nothing visible.
    expect(m.apply(logged({ ...snap, timeSec: 500 }), [detected('a', 'ok', 'locked', 500)])).toEqual([]);
    expect(m.state('a')).toBe('closed');
    // Installed again but not renting: still declared, another feed change.
    const inactive = m.apply(logged(statusChanged('a', 550, 'renting', false)), []);
    expect(inactive.map(brief)).toEqual([]);
    expect(m.apply(logged(statusChanged('a', 560, 'installed', true)), []).map(brief)).toEqual([
      'a:closed>not_renting:feed:feed_declared',
    ]);
    // Cleared: the detector's current state shows again.
    expect(m.apply(logged(statusChanged('a', 600, 'renting', true)), []).map(brief)).toEqual([
      'a:not_renting>locked:feed:feed_cleared',
    ]);
    expect(m.states().get('a')).toEqual({ state: 'locked', sinceSec: 600, detector: 'feed', confidence: 1 });
  });

  it('a station added closed starts closed; removal forgets it', () => {
    const m = new StationStateMachine(SYSTEM);
    const add = logged({
      system: SYSTEM,
      timeSec: 100,
      type: 'station_added',
      stationId: 'z',
      after,
      flags: { installed: false, renting: false, returning: false },
      info: null,
    });
    expect(m.apply(add, []).map(brief)).toEqual(['z:learning>closed:feed:feed_declared']);
    expect(
      m.apply(logged({ system: SYSTEM, timeSec: 200, type: 'station_removed', stationId: 'z' }), []),
    ).toEqual([]);
    expect(m.state('z')).toBeUndefined();
  });

  it('with the seed detector: no missing activity accrues while the feed declares a problem', () => {
    // b0 silent from 11:50 on day 8; the feed declares it not renting from 12:00 to 15:00.
    const events = trace({
      stations: busy(10),
      untilSec: at(8, 18),
      activity: (id, t) => (id === 'b0' && t >= at(8, 11, 50) ? 0 : 5),
      extra: (t) =>
        t === at(8, 12)
          ? [statusChanged('b0', t, 'renting', false)]
          : t === at(8, 15)
            ? [statusChanged('b0', t, 'renting', true)]
            : [],
    });
    const machine = new StationStateMachine(SYSTEM);
    const { shown } = run(events, new SeedDetector({ system: SYSTEM }), undefined, machine);
    const b0 = shown.filter((c) => c.stationId === 'b0' && c.reason !== 'history_ready');
    // Silence starts again from zero at 15:00: 7 documents × 4.5 missing → locked at 16:10.
    expect(b0.map((c) => `${brief(c)}@${c.timeSec}`)).toEqual([
      `b0:ok>not_renting:feed:feed_declared@${at(8, 12)}`,
      `b0:not_renting>ok:feed:feed_cleared@${at(8, 15)}`,
      `b0:ok>locked:seed:missing_activity@${at(8, 15) + 7 * DOC_SEC}`,
    ]);
    expect(b0[2]!.evidence!.inactiveSec).toBe(7 * DOC_SEC);
    expect(shown.every((c) => c.from !== c.to)).toBe(true);

    const saved = JSON.parse(JSON.stringify(machine.saveState())) as unknown;
    const restored = new StationStateMachine(SYSTEM);
    restored.restoreState(saved);
    expect(restored.states()).toEqual(machine.states());
  });
});

describe('detector registry', () => {
  it('creates the seed detector and names the known ones for an unknown name', () => {
    const d = createDetector('seed', { system: SYSTEM, minHistoryDays: 3 });
    expect(d.name).toBe('seed');
    expect(detectorNames()).toContain('seed');
    expect(() => createDetector('oracle', { system: SYSTEM, minHistoryDays: 7 })).toThrow(
      /Unknown detector "oracle"\. Known detectors: .*seed/,
    );
  });

  it('accepts new detectors and refuses a duplicate name', () => {
    registerDetector('seed-strict', (opts) => new SeedDetector({ ...opts, lockMissing: 60 }));
    expect(createDetector('seed-strict', { system: SYSTEM, minHistoryDays: 7 })).toBeInstanceOf(SeedDetector);
    expect(() => registerDetector('seed', (opts) => new SeedDetector(opts))).toThrow(/already registered/);
  });
});
