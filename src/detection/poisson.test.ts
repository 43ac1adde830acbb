import { describe, expect, it } from 'vitest';
import { ActivityModel } from '../activity/index.js';
import type { CountsAfter, LoggedEvent } from '../events/types.js';
import { joinCheckpoint, splitCheckpoint } from '../storage/codec/checkpoint.js';
import { PoissonDetector, binnedHazard } from './poisson.js';
import { unpackF64 } from './poisson-math.js';
import type { StateChange } from './types.js';

/** A checkpoint as a store gives it back: JSON text plus its binary parts (storage/codec). */
function throughStore(state: unknown): unknown {
  const { json, binary } = splitCheckpoint('test', state);
  return joinCheckpoint(json, binary);
}

const DAY = 86_400;
const T0 = 1_700_000_000 - (1_700_000_000 % DAY); // a UTC midnight

/**
 * A hand-made log: station `a` under test plus four neighbours that stay busy (the system level
 * needs a system), polled every 10 min; `move(t)` says what `a` does in the poll at t.
 */
const OTHERS = ['b', 'c', 'd', 'e'];

class Log {
  events: LoggedEvent[] = [];
  private offset = 0;
  bikes = 5;
  docks = 5;

  private after(bikes: number, docks: number): CountsAfter {
    return {
      bikes: { mechanical: bikes, electric: 0, other: 0 },
      docksAvailable: docks,
      bikesDisabled: 0,
      docksDisabled: 0,
    };
  }

  private push(e: Record<string, unknown>): void {
    this.events.push({ ...e, offset: ++this.offset } as LoggedEvent);
  }

  add(timeSec: number): void {
    for (const stationId of ['a', ...OTHERS]) {
      this.push({
        system: 's',
        timeSec,
        type: 'station_added',
        stationId,
        after: this.after(5, 5),
        flags: { installed: true, renting: true, returning: true },
        info: null,
      });
    }
    this.push({ system: 's', timeSec, type: 'snapshot', stations: 5, intervalSec: null });
  }

  private move(stationId: string, t: number, m: number, bikes: number, docks: number): void {
    if (m === 0) return;
    this.push({
      system: 's',
      timeSec: t,
      type: m < 0 ? 'rented' : 'returned',
      stationId,
      bikeType: 'mechanical',
      count: Math.abs(m),
      after: this.after(bikes, docks),
    });
  }

  /** Polls from `fromSec` (exclusive) to `toSec`; move returns the change of a's bikes (− rentals, + returns). */
  run(fromSec: number, toSec: number, move: (t: number) => number): void {
    for (let t = fromSec + 600; t <= toSec; t += 600) {
      const m = move(t);
      this.bikes += m;
      this.docks -= m;
      this.move('a', t, m, this.bikes, this.docks);
      const o = busy(t);
      for (const id of OTHERS) this.move(id, t, o, o < 0 ? 4 : 5, o < 0 ? 6 : 5);
      this.push({ system: 's', timeSec: t, type: 'snapshot', stations: 5, intervalSec: 600 });
    }
  }

  gap(fromSec: number, toSec: number): void {
    this.push({ system: 's', timeSec: toSec, type: 'feed_gap', fromSec });
    this.push({ system: 's', timeSec: toSec, type: 'feed_resumed', gapSec: toSec - fromSec });
    this.push({ system: 's', timeSec: toSec, type: 'snapshot', stations: 5, intervalSec: toSec - fromSec });
  }
}

/** A busy station: alternately a rental and a return every 20 minutes, all day (3 moves per hour). */
const busy = (t: number) => ((t / 600) % 4 === 1 ? -1 : (t / 600) % 4 === 3 ? 1 : 0);

const onlyA = (cs: StateChange[]) => cs.filter((c) => c.stationId === 'a');

function replay(
  events: LoggedEvent[],
  det = new PoissonDetector({ system: 's', minHistoryDays: 3 }),
  activity = new ActivityModel({ timeZone: 'UTC' }),
): StateChange[] {
  const out: StateChange[] = [];
  for (const e of events) {
    activity.apply(e);
    out.push(...det.handle(e, activity));
  }
  return out;
}

function history(): Log {
  const log = new Log();
  log.add(T0);
  log.run(T0, T0 + 4 * DAY, busy);
  return log;
}

describe('PoissonDetector', () => {
  it('stays learning, then ok, and raises nothing on a station that behaves as usual', () => {
    const log = history();
    log.run(T0 + 4 * DAY, T0 + 6 * DAY, busy);
    const changes = onlyA(replay(log.events));
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual(['learning>ok']);
    expect(replay(log.events).filter((c) => c.to !== 'ok')).toEqual([]);
    expect(changes[0]!.timeSec).toBeGreaterThanOrEqual(T0 + 3 * DAY);
  });

  it('flags a silent busy station as locked within hours, with confidence, and clears it on activity', () => {
    const log = history();
    const lockAt = T0 + 4 * DAY;
    log.run(lockAt, lockAt + 12 * 3600, () => 0);
    log.run(lockAt + 12 * 3600, lockAt + 14 * 3600, busy);
    const changes = onlyA(replay(log.events)).filter((c) => c.from !== 'learning');
    expect(changes.map((c) => c.to)).toEqual(['locked', 'ok']);
    const [lock, unlock] = changes as [StateChange, StateChange];
    // 3 moves/h in half the polls: p < 5e-5 (κ ≈ 10) needs Λ ≈ 17, i.e. 0.69 per poll, ~4 h of silence.
    expect(lock.timeSec - lockAt).toBeGreaterThan(2 * 3600);
    expect(lock.timeSec - lockAt).toBeLessThan(8 * 3600);
    expect(lock.confidence).toBeGreaterThan(0.9999);
    expect(lock.evidence!['pValue']).toBeLessThan(5e-5);
    expect(unlock.reason).toBe('activity_resumed');
    expect(unlock.timeSec).toBeGreaterThan(lockAt + 12 * 3600);
  });

  it('tells rent_blocked from locked: returns go on, rentals stop', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    log.docks = 40; // room for every return
    log.run(at, at + 12 * 3600, (t) => ((t / 600) % 4 === 3 ? 1 : 0));
    const changes = onlyA(replay(log.events)).filter((c) => c.from !== 'learning');
    expect(changes.map((c) => c.to)).toEqual(['rent_blocked']);
  });

  it('expects no rental from an empty station', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    // Empty it, then only returns… none: an empty, silent station can only be return_blocked.
    log.run(at, at + 600, () => -log.bikes);
    log.run(at + 600, at + 24 * 3600, () => 0);
    const changes = onlyA(replay(log.events)).filter((c) => c.from !== 'learning');
    expect(changes.map((c) => c.to)).toEqual(['return_blocked']);
  });

  it('never counts blind time (feed_gap) as silence', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    log.gap(at, at + 2 * DAY);
    log.run(at + 2 * DAY, at + 2 * DAY + 3600, busy);
    const changes = onlyA(replay(log.events)).filter((c) => c.from !== 'learning');
    expect(changes).toEqual([]);
  });

  it('saveState / restoreState round-trip: a restored detector continues identically', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    log.run(at, at + 10 * 3600, () => 0);
    log.run(at + 10 * 3600, at + 12 * 3600, busy);
    const cut = log.events.findIndex((e) => e.timeSec >= at + 2 * 3600);
    const activity = new ActivityModel({ timeZone: 'UTC' });
    const a = new PoissonDetector({ system: 's', minHistoryDays: 3 });
    const before = onlyA(replay(log.events.slice(0, cut), a, activity));
    const b = new PoissonDetector({ system: 's', minHistoryDays: 3 });
    b.restoreState(throughStore(a.saveState()));
    const rest = log.events.slice(cut);
    const activity2 = new ActivityModel({ timeZone: 'UTC' });
    for (const e of log.events.slice(0, cut)) activity2.apply(e);
    const fromA = replay(rest, a, activity);
    const fromB = replay(rest, b, activity2);
    expect(fromB).toEqual(fromA);
    expect(onlyA(fromA).map((c) => c.to)).toEqual(['locked', 'ok']);
    expect(before.map((c) => c.to)).toEqual(['ok']);
    expect(b.states()).toEqual(a.states());
  });

  it('restores version-3 checkpoints saved as base64 and version-2 ones (JSON; arrays in base64 or as plain numbers)', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    log.run(at, at + 10 * 3600, () => 0);
    log.run(at + 10 * 3600, at + 12 * 3600, busy);
    const cut = log.events.findIndex((e) => e.timeSec >= at + 2 * 3600);
    const activity = new ActivityModel({ timeZone: 'UTC' });
    const a = new PoissonDetector({ system: 's', minHistoryDays: 3 });
    replay(log.events.slice(0, cut), a, activity);
    const v3 = throughStore(a.saveState()) as { v: number; bin: Uint8Array };
    expect(v3.v).toBe(3);
    expect(v3.bin).toBeInstanceOf(Uint8Array);
    // Before the stores kept binaries, version 3 was saved with its bytes as a base64 string.
    const v3base64 = { v: 3, bin: Buffer.from(v3.bin).toString('base64') };
    const v2 = JSON.parse(JSON.stringify(a.saveStateV2())) as Record<string, unknown> & { v: number };
    expect(v2.v).toBe(2);
    // The first version-2 checkpoints wrote every array as JSON numbers.
    const plain = JSON.parse(JSON.stringify(v2), (key, value: unknown) =>
      typeof value === 'string' && key !== 'id' && key !== 'state' ? Array.from(unpackF64(value)) : value,
    ) as unknown;
    expect(JSON.stringify(plain)).not.toContain('"n":"');
    const rest = log.events.slice(cut);
    const expected = onlyA(replay(rest, a, activity));
    expect(expected.map((c) => c.to)).toEqual(['locked', 'ok']);
    for (const saved of [v3, v3base64, v2, plain]) {
      const b = new PoissonDetector({ system: 's', minHistoryDays: 3 });
      b.restoreState(saved);
      // Every form restores the same detector: its version-3 bytes are those of the original's.
      expect(Buffer.from((b.saveState() as { bin: Uint8Array }).bin).equals(v3.bin)).toBe(true);
      const activity2 = new ActivityModel({ timeZone: 'UTC' });
      for (const e of log.events.slice(0, cut)) activity2.apply(e);
      expect(onlyA(replay(rest, b, activity2))).toEqual(expected);
    }
  });

  it('refuses a truncated or corrupt version-3 checkpoint with a clear error', () => {
    const log = history();
    const a = new PoissonDetector({ system: 's', minHistoryDays: 3 });
    replay(log.events, a, new ActivityModel({ timeZone: 'UTC' }));
    const bytes = Buffer.from((a.saveState() as { bin: Uint8Array }).bin);
    const cut = bytes.subarray(0, bytes.length - 10);
    for (const bin of [cut, cut.toString('base64')])
      expect(() =>
        new PoissonDetector({ system: 's', minHistoryDays: 3 }).restoreState({ v: 3, bin }),
      ).toThrow(/poisson checkpoint: truncated/);
    const longer = Buffer.concat([bytes, Buffer.from([0, 0, 0, 0])]);
    expect(() =>
      new PoissonDetector({ system: 's', minHistoryDays: 3 }).restoreState({ v: 3, bin: longer }),
    ).toThrow(/trailing data/);
    expect(() => new PoissonDetector({ system: 's', minHistoryDays: 3 }).restoreState({ v: 3 })).toThrow(
      /version 3 without its data/,
    );
  });

  it('restores a version-1 checkpoint (before stuck bikes): the locks continue as before', () => {
    const log = history();
    const at = T0 + 4 * DAY;
    log.run(at, at + 10 * 3600, () => 0);
    log.run(at + 10 * 3600, at + 12 * 3600, busy);
    const cut = log.events.findIndex((e) => e.timeSec >= at + 2 * 3600);
    const activity = new ActivityModel({ timeZone: 'UTC' });
    const a = new PoissonDetector({ system: 's', minHistoryDays: 3 });
    replay(log.events.slice(0, cut), a, activity);
    // Version 1 kept the level in the clock and had neither the stuck watch nor rentedTypes.
    const v2 = JSON.parse(JSON.stringify(a.saveStateV2())) as {
      rent: unknown;
      ret: unknown;
      stations: Array<Record<string, unknown>>;
      clock: number[];
      level: number[];
    };
    const v1 = {
      v: 1,
      rent: v2.rent,
      ret: v2.ret,
      stations: v2.stations.map(({ rentedTypes: _r, ...s }) => s),
      clock: [...v2.clock.slice(0, 4), ...v2.level, v2.clock[4]],
    };
    const b = new PoissonDetector({ system: 's', minHistoryDays: 3 });
    b.restoreState(v1);
    const activity2 = new ActivityModel({ timeZone: 'UTC' });
    for (const e of log.events.slice(0, cut)) activity2.apply(e);
    const rest = log.events.slice(cut);
    const fromA = onlyA(replay(rest, a, activity));
    expect(onlyA(replay(rest, b, activity2))).toEqual(fromA);
    expect(fromA.map((c) => c.to)).toEqual(['locked', 'ok']);
  });

  it('reads learned occurrence rates as per-poll probabilities: a busy station is locked sooner', () => {
    expect(binnedHazard(0.01)).toBe(0.01); // quiet: the same as a Poisson mean
    expect(binnedHazard(0.5)).toBeCloseTo(Math.LN2, 12); // P(move in a poll) = ½ ⇒ intensity ln 2
    expect(binnedHazard(2)).toBeCloseTo(-Math.log(0.05), 12); // capped: one poll is never certain
    const log = history();
    const lockAt = T0 + 4 * DAY;
    log.run(lockAt, lockAt + 12 * 3600, () => 0);
    const lockTime = (binned: boolean) =>
      onlyA(replay(log.events, new PoissonDetector({ system: 's', minHistoryDays: 3, binned }))).find(
        (c) => c.to === 'locked',
      )!.timeSec;
    // Moves in half the polls: −ln(1 − ½) = 0.69 per poll instead of 0.5, a lock ~28 % sooner.
    expect(lockTime(true)).toBeLessThan(lockTime(false) - 1800);
  });

  it('asks a longer silence of a station whose rate rests on few events (rate uncertainty)', () => {
    // One move every 2 h, four days: ~48 learned events per direction, so 1/κ = 1/10 + 1/48 or so.
    const sparse = (t: number) => ((t / 600) % 24 === 6 ? -1 : (t / 600) % 24 === 18 ? 1 : 0);
    const log = new Log();
    log.add(T0);
    log.run(T0, T0 + 4 * DAY, sparse);
    const lockAt = T0 + 4 * DAY;
    log.run(lockAt, lockAt + 4 * DAY, () => 0);
    const lock = (rateUncertainty: boolean) =>
      onlyA(
        replay(log.events, new PoissonDetector({ system: 's', minHistoryDays: 3, rateUncertainty })),
      ).find((c) => c.to === 'locked')!;
    const withU = lock(true);
    const without = lock(false);
    expect(withU.timeSec).toBeGreaterThan(without.timeSec);
    // Both alarms still carry p < alarmP under their own κ.
    expect(withU.evidence!['pValue']).toBeLessThan(5e-5);
    expect(withU.evidence!['expected']).toBeGreaterThan(without.evidence!['expected']);
  });

  it('takes its name from the options (several operating points side by side in a backtest)', () => {
    expect(new PoissonDetector({ system: 's', minHistoryDays: 3 }).name).toBe('poisson');
    expect(
      new PoissonDetector({ system: 's', minHistoryDays: 3, name: 'poisson-1e-3', alarmP: 1e-3 }).name,
    ).toBe('poisson-1e-3');
  });
});
