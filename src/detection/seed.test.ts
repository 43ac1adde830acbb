import { describe, expect, it } from 'vitest';
import { ActivityModel } from '../activity/index.js';
import { DOC_SEC, SYSTEM, TZ, at, busy, run, trace } from '../../test/detection/scenario.js';
import { SeedDetector } from './seed.js';

const seed = () => new SeedDetector({ system: SYSTEM });
const B = busy(10);

describe('seed detector', () => {
  // Ten stations with 5 activities per 10-minute document, every day: 15 expected per 30 minutes.
  // b0 goes silent on day 8 at 12:00 local, after eight days of history.
  const silentFrom = at(8, 12);

  it('locks a busy station that goes silent, at the right time, with the right evidence', () => {
    const events = trace({
      stations: B,
      untilSec: at(8, 16),
      activity: (id, t) => (id === 'b0' && t >= silentFrom ? 0 : 5),
    });
    const { detected } = run(events, seed());
    const locks = detected.filter((c) => c.to === 'locked');
    expect(locks).toHaveLength(1);
    const lock = locks[0]!;
    // The system ratio over the last 30 minutes falls from 145/150 to 140/150, then 135/150 = 0.9
    // (nine of ten stations active); missing activity per document = 600/1800 × 15 × ratio.
    const ratios = [145 / 150, 140 / 150, 0.9, 0.9, 0.9, 0.9, 0.9];
    const missing = ratios.map((r) => 5 * r);
    const total = missing.reduce((a, b) => a + b, 0);
    expect(missing.slice(0, 6).reduce((a, b) => a + b, 0)).toBeLessThan(30);
    expect(total).toBeGreaterThanOrEqual(30);
    expect(lock).toMatchObject({
      stationId: 'b0',
      from: 'ok',
      to: 'locked',
      detector: 'seed',
      reason: 'missing_activity',
    });
    expect(lock.timeSec).toBe(silentFrom + 6 * DOC_SEC);
    expect(lock.evidence!.inactiveSec).toBe(7 * DOC_SEC); // since the last activity at 11:50
    expect(lock.evidence!.observed).toBe(0);
    expect(lock.evidence!.expected).toBeCloseTo(total, 9);
    expect(lock.evidence!['ratio']).toBeCloseTo(0.9, 9);
    expect(lock.evidence!['expectedPerWindow']).toBe(15);
    // Confidence: 0.5 at the threshold, +0.5 per threshold beyond it.
    expect(lock.confidence).toBeCloseTo(0.5 + (0.5 * (total - 30)) / 30, 9);
    const snapshot = events.find((e) => e.offset === lock.offset)!;
    expect(snapshot.type).toBe('snapshot');
  });

  it('gives the same answers through an ActivityView without the bulk windowCounts read', () => {
    const events = trace({
      stations: B,
      untilSec: at(8, 14),
      activity: (id, t) => (id === 'b0' && t >= silentFrom ? 0 : 5),
    });
    const bulk = run(events, seed());
    const model = new ActivityModel({ timeZone: TZ });
    const plain = {
      slotCount: model.slotCount.bind(model),
      historyDays: model.historyDays.bind(model),
      slotOf: model.slotOf.bind(model),
    };
    const d = seed();
    const viaPlain = events.flatMap((e) => (model.apply(e), d.handle(e, plain)));
    expect(viaPlain).toEqual(bulk.detected);
    expect(viaPlain.some((c) => c.to === 'locked')).toBe(true);
  });

  it('does not lock a quiet station that stays silent for a day', () => {
    // q: one activity every two hours, then nothing on day 8.
    const events = trace({
      stations: [...B, 'q'],
      untilSec: at(9, 0),
      activity: (id, t) => (id !== 'q' ? 5 : t < at(8, 0) && (t - at(0, 0)) % 7200 === 0 ? 1 : 0),
    });
    const d = seed();
    const { detected } = run(events, d);
    expect(detected.filter((c) => c.to === 'locked')).toEqual([]);
    expect(d.states().get('q')!.state).toBe('ok');
    expect(d.states().get('q')!.confidence).toBeGreaterThan(0.5);
  });

  it('never counts blind time: a feed gap neither locks nor adds missing activity', () => {
    // No document from 12:10 to 14:50 on day 8; b2 silent from 11:20 to the end.
    const gap: [number, number] = [at(8, 12, 10), at(8, 15)];
    const events = trace({
      stations: B,
      untilSec: at(8, 17),
      gaps: [gap],
      activity: (id, t) => (id === 'b2' && t >= at(8, 11, 20) ? 0 : 5),
    });
    const { detected } = run(events, seed());
    const locks = detected.filter((c) => c.to === 'locked');
    expect(locks.map((c) => c.stationId)).toEqual(['b2']);
    const lock = locks[0]!;
    expect(lock.timeSec).toBeGreaterThan(at(8, 15));
    // Observed silence only: 11:10 → 12:00, then 15:00 → lock time.
    expect(lock.evidence!.inactiveSec).toBe(at(8, 12) - at(8, 11, 10) + lock.timeSec - at(8, 15));
    expect(lock.evidence!.expected).toBeLessThan(30 + 5);
  });

  it('a gap with the whole feed silent locks nobody', () => {
    const events = trace({
      stations: B,
      untilSec: at(8, 20),
      gaps: [[at(8, 9), at(8, 15)]],
      activity: () => 5,
    });
    const { detected } = run(events, seed());
    expect(detected.filter((c) => c.to === 'locked')).toEqual([]);
  });

  it('unlocks after more than 2 activities following the lock', () => {
    const lockAt = silentFrom + 6 * DOC_SEC;
    const events = trace({
      stations: B,
      untilSec: at(8, 16),
      activity: (id, t) => {
        if (id !== 'b0' || t < silentFrom || t > lockAt + 6 * DOC_SEC) return 5;
        // One activity in each of the three documents after the lock, with silence in between.
        return t === lockAt + 2 * DOC_SEC || t === lockAt + 4 * DOC_SEC || t === lockAt + 6 * DOC_SEC ? 1 : 0;
      },
    });
    const d = seed();
    const { detected } = run(events, d);
    const b0 = detected.filter((c) => c.stationId === 'b0' && c.reason !== 'history_ready');
    expect(b0.map((c) => `${c.from}>${c.to}@${c.timeSec - silentFrom}`)).toEqual([
      `ok>locked@${6 * DOC_SEC}`,
      `locked>ok@${12 * DOC_SEC}`,
    ]);
    expect(b0[1]).toMatchObject({ reason: 'activity_resumed', confidence: 1 });
    expect(b0[1]!.evidence).toMatchObject({ observed: 3, inactiveSec: 0, lockedSec: 6 * DOC_SEC });
    expect(d.states().get('b0')).toEqual({ state: 'ok', sinceSec: lockAt + 6 * DOC_SEC, confidence: 1 });
  });

  it('stays learning during the cold start, then becomes ok with seven days of history', () => {
    const events = trace({
      stations: B,
      untilSec: at(7, 1),
      activity: (id, t) => (id === 'b0' && t >= at(3, 12) ? 0 : 5),
    });
    const d = seed();
    const { detected } = run(
      events.filter((e) => e.timeSec < at(7, 0)),
      d,
    );
    expect(detected).toEqual([]);
    expect([...d.states().values()].every((s) => s.state === 'learning' && s.confidence === 0)).toBe(true);
    const rest = run(
      events.filter((e) => e.timeSec >= at(7, 0)),
      d,
      rebuiltModel(events, at(7, 0)),
    );
    const ready = rest.detected.filter((c) => c.reason === 'history_ready');
    expect(ready.map((c) => c.stationId)).toEqual(B);
    expect(ready.every((c) => c.from === 'learning' && c.to === 'ok' && c.timeSec === at(7, 0))).toBe(true);
  });

  it('saveState/restoreState round-trip: a restarted instance emits exactly what an uninterrupted one does', () => {
    const events = trace({
      stations: [...B, 'q'],
      untilSec: at(9, 6),
      gaps: [[at(8, 13), at(8, 14, 30)]],
      activity: (id, t) => {
        if (id === 'q') return t % 5400 === 0 ? 1 : 0;
        if (id === 'b0' && t >= silentFrom && t < at(8, 18)) return t === at(8, 17) ? 3 : 0;
        return id === 'b3' && t > at(8, 20) ? 0 : 5;
      },
    });
    const whole = seed();
    const expected = run(events, whole);
    expect(expected.detected.filter((c) => c.to === 'locked').length).toBeGreaterThanOrEqual(2);

    const half = Math.floor(events.length / 2) + 7; // mid-document on purpose
    const first = seed();
    const model = new ActivityModel({ timeZone: TZ });
    const a = run(events.slice(0, half), first, model);
    const saved = JSON.parse(JSON.stringify(first.saveState())) as unknown;
    const second = seed();
    second.restoreState(saved);
    const b = run(events.slice(half), second, model);
    expect([...a.detected, ...b.detected]).toEqual(expected.detected);
    expect(second.states()).toEqual(whole.states());
    expect(() => seed().restoreState({ version: 99 })).toThrow(/unsupported checkpoint/);
  });
});

/** A model rebuilt from the history before `untilSec`, as after a restart. */
function rebuiltModel(events: ReturnType<typeof trace>, untilSec: number): ActivityModel {
  const live = new ActivityModel({ timeZone: TZ });
  const slots = events.filter((e) => e.timeSec < untilSec).flatMap((e) => live.apply(e));
  const model = new ActivityModel({ timeZone: TZ });
  model.load(slots);
  return model;
}
