import { describe, expect, it } from 'vitest';
import { ActivityModel } from '../activity/index.js';
import type { BikeCounts } from '../feed/model.js';
import type { LoggedEvent } from '../events/types.js';
import { joinCheckpoint, splitCheckpoint } from '../storage/codec/checkpoint.js';
import { PoissonDetector } from './poisson.js';
import type { StateChange } from './types.js';

/** A checkpoint as a store gives it back: JSON text plus its binary parts (storage/codec). */
function throughStore(state: unknown): unknown {
  const { json, binary } = splitCheckpoint('test', state);
  return joinCheckpoint(json, binary);
}

const DAY = 86_400;
const H = 3600;
/** Monday 2023-11-13 00:00 UTC: four days of history, then the faults on a Friday (same day type). */
const T0 = 1_699_833_600;
const CAPACITY = 12;

/**
 * Station `a`, with mechanical and electric bikes, and three busy neighbours (the system level
 * needs a system), one document every 10 minutes. `step(t, counts)` returns a's counts after the
 * poll at t; the log gets one rented/returned event per type that changed, like diffSnapshots.
 */
class Log {
  events: LoggedEvent[] = [];
  private offset = 0;
  a: BikeCounts = { mechanical: 4, electric: 1, other: 0 };

  private push(e: Record<string, unknown>): void {
    this.events.push({ ...e, offset: ++this.offset } as LoggedEvent);
  }

  private after(b: BikeCounts) {
    const bikes = b.mechanical + b.electric + b.other;
    return { bikes: { ...b }, docksAvailable: CAPACITY - bikes, bikesDisabled: 0, docksDisabled: 0 };
  }

  start(): void {
    for (const stationId of ['a', 'b', 'c', 'd'])
      this.push({
        system: 's',
        timeSec: T0,
        type: 'station_added',
        stationId,
        after: this.after(stationId === 'a' ? this.a : { mechanical: 5, electric: 0, other: 0 }),
        flags: { installed: true, renting: true, returning: true },
        info: null,
      });
    this.push({ system: 's', timeSec: T0, type: 'snapshot', stations: 4, intervalSec: null });
  }

  run(fromSec: number, toSec: number, step: (poll: number, now: BikeCounts) => BikeCounts): void {
    for (let t = fromSec + 600; t <= toSec; t += 600) {
      const next = step(Math.round(t / 600), { ...this.a });
      for (const k of ['mechanical', 'electric'] as const) {
        const d = next[k] - this.a[k];
        if (d !== 0)
          this.push({
            system: 's',
            timeSec: t,
            type: d < 0 ? 'rented' : 'returned',
            stationId: 'a',
            bikeType: k,
            count: Math.abs(d),
            after: this.after(next),
          });
      }
      this.a = next;
      // Neighbours: a rental and a return in turn every 20 minutes.
      const o = (t / 600) % 4 === 1 ? -1 : (t / 600) % 4 === 3 ? 1 : 0;
      for (const id of ['b', 'c', 'd'])
        if (o !== 0)
          this.push({
            system: 's',
            timeSec: t,
            type: o < 0 ? 'rented' : 'returned',
            stationId: id,
            bikeType: 'mechanical',
            count: 1,
            after: this.after({ mechanical: o < 0 ? 4 : 5, electric: 0, other: 0 }),
          });
      this.push({ system: 's', timeSec: t, type: 'snapshot', stations: 4, intervalSec: 600 });
    }
  }
}

/**
 * Usual life of `a` (hourly cycle of six polls): an e-bike is returned, then rented 20 minutes
 * later (the station holds 0 or 1 e-bike); its two mechanical bikes leave one by one and two
 * others come back.
 */
const usual = (poll: number, c: BikeCounts): BikeCounts => {
  const p = poll % 6;
  if (p === 0) c.electric += 1;
  if (p === 2) c.electric = Math.max(0, c.electric - 1);
  if (p === 1 || p === 3) c.mechanical = Math.max(0, c.mechanical - 1);
  if (p === 4) c.mechanical += 2;
  return c;
};

function replay(events: LoggedEvent[], det = new PoissonDetector({ system: 's', minHistoryDays: 3 })) {
  const activity = new ActivityModel({ timeZone: 'UTC' });
  const out: StateChange[] = [];
  for (const e of events) {
    activity.apply(e);
    out.push(...det.handle(e, activity));
  }
  return { det, changes: out.filter((c) => c.stationId === 'a' && c.from !== 'learning') };
}

function history(): Log {
  const log = new Log();
  log.a = { mechanical: 2, electric: 0, other: 0 };
  log.start();
  log.run(T0, T0 + 4 * DAY, usual);
  return log;
}

describe('PoissonDetector: stuck bikes and blocked docks', () => {
  it('raises nothing on a station that behaves as usual', () => {
    const log = history();
    log.run(T0 + 4 * DAY, T0 + 6 * DAY, usual);
    expect(replay(log.events).changes).toEqual([]);
  });

  it('flags an e-bike that never leaves while others are rented, and clears it when it goes', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    // One e-bike stays: the e-bike count never falls below 1; returned e-bikes still leave.
    log.a.electric = 1;
    log.run(at, at + 12 * H, (poll, c) => {
      const next = usual(poll, c);
      next.electric = Math.max(1, next.electric);
      return next;
    });
    log.run(at + 12 * H, at + 13 * H, (_, c) => ({ ...c, electric: 0 })); // it finally leaves
    const { changes } = replay(log.events);
    expect(changes.map((c) => c.to)).toEqual(['bikes_stuck', 'ok']);
    const [stuck, cleared] = changes as [StateChange, StateChange];
    // Usually the lone e-bike leaves within 20 min: p < 5e-5 needs hours, not days.
    expect(stuck.timeSec - at).toBeGreaterThan(H);
    expect(stuck.timeSec - at).toBeLessThan(10 * H);
    expect(stuck.evidence!['stuckBikes']).toBe(1);
    expect(stuck.evidence!['pValue']).toBeLessThan(5e-5);
    expect(cleared.timeSec).toBe(at + 12 * H + 600);
  });

  it('does not call a station that went silent "stuck": nothing was rented meanwhile', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    log.a.electric = 1;
    log.run(at, at + 12 * H, (_, c) => c);
    const states = replay(log.events).changes.map((c) => c.to);
    expect(states).not.toContain('bikes_stuck');
    expect(states[0]).toBe('locked');
  });

  it('flags free docks that never take a bike while returns go on (blocked docks)', () => {
    // Usually the station fills up every hour (12 bikes, 0 free docks), stays full, empties again.
    const fill = (poll: number, c: BikeCounts): BikeCounts => {
      const p = poll % 6;
      if (p < 2) c.mechanical = Math.min(CAPACITY, c.mechanical + 6);
      else if (p >= 4) c.mechanical = Math.max(0, c.mechanical - 6);
      return c;
    };
    const log = new Log();
    log.a = { mechanical: 0, electric: 0, other: 0 };
    log.start();
    log.run(T0, T0 + 4 * DAY, fill);
    const at = T0 + 4 * DAY;
    // From now on the last free dock never takes a bike: at most 11 bikes.
    log.run(at, at + 24 * H, (poll, c) => {
      const next = fill(poll, c);
      next.mechanical = Math.min(CAPACITY - 1, next.mechanical);
      return next;
    });
    const { changes } = replay(log.events);
    expect(changes.map((c) => c.to)).toEqual(['docks_blocked']);
    expect(changes[0]!.evidence!['blockedDocks']).toBe(1);
    expect(changes[0]!.timeSec - at).toBeLessThan(20 * H);
  });

  it('can be switched off (stuckP 0) and round-trips through saveState', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    log.a.electric = 1;
    log.run(at, at + 12 * H, (poll, c) => {
      const next = usual(poll, c);
      next.electric = Math.max(1, next.electric);
      return next;
    });
    expect(
      replay(log.events, new PoissonDetector({ system: 's', minHistoryDays: 3, stuckP: 0 })).changes,
    ).toEqual([]);
    // Cut two hours into the fault, restore into a fresh detector: the same alarm at the same time.
    const cut = log.events.findIndex((e) => e.timeSec >= at + 2 * H);
    const first = replay(log.events.slice(0, cut));
    const b = new PoissonDetector({ system: 's', minHistoryDays: 3 });
    b.restoreState(throughStore(first.det.saveState()));
    const activity = new ActivityModel({ timeZone: 'UTC' });
    for (const e of log.events.slice(0, cut)) activity.apply(e);
    const rest: StateChange[] = [];
    for (const e of log.events.slice(cut)) {
      activity.apply(e);
      rest.push(...b.handle(e, activity));
    }
    const whole = replay(log.events).changes;
    expect(rest.filter((c) => c.stationId === 'a')).toEqual(whole.filter((c) => c.timeSec >= at + 2 * H));
    expect(whole.map((c) => c.to)).toEqual(['bikes_stuck']);
  });
});
