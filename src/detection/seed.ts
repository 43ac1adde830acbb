import type { LoggedEvent } from '../events/types.js';
import type { ActivityView, DetectedState, Detector, Evidence, StateChange } from './types.js';
import { SystemRatio } from './seed-ratio.js';

/**
 * The `seed` detector: the rule of the service dockwatch replaces, kept as the reference to beat.
 * A station is locked when it has been silent for more than 30 minutes while the activity it
 * usually has at this time of day, scaled to today's conditions, adds up to 30 missing rentals or
 * returns. The method, its defaults and its limits are described in docs/detection.md.
 */
export interface SeedOptions {
  system: string;
  /** Days of history before a station leaves `learning`. */
  minHistoryDays?: number;
  /** Length of the expectation window and of the system ratio's window. */
  windowSec?: number;
  /** Reference days: the previous day and the same weekday 1, 2, 3 weeks before. */
  referenceDaysAgo?: number[];
  /** Lock only after more than this much silence (blind time excluded). */
  lockInactiveSec?: number;
  /** … and once missing activity reaches this. */
  lockMissing?: number;
  /** Unlock when more than this many activities are seen after the lock. */
  unlockActivities?: number;
  /** Upper clamp of the system ratio (the lower is 0). */
  maxRatio?: number;
}

interface Track {
  id: string;
  installed: boolean;
  renting: boolean;
  returning: boolean;
  state: DetectedState;
  sinceSec: number;
  /** Missing activity and silence only accrue after this time (added, declared problem ended). */
  countFromSec: number;
  lastActivitySec: number | null;
  inactiveSec: number;
  missing: number;
  activitySinceLock: number;
  missingSinceLock: number;
  /** Cached per window (hour × slot): expected activity per window. */
  windowKey: number;
  /** Cached per local day (history only grows at midnight): enough history to judge. */
  readyDay: number;
  history: number;
  ready: boolean;
  expected: number;
}

const SLOT_SEC = 600;
const STATE_VERSION = 1;

export class SeedDetector implements Detector {
  readonly name = 'seed';
  private readonly system: string;
  private readonly minHistoryDays: number;
  private readonly windowSec: number;
  private readonly refs: number[];
  /** refs.slice(0, n) for every n, made once: no allocation in the hot path. */
  private readonly refPrefixes: number[][];
  private readonly lockInactiveSec: number;
  private readonly lockMissing: number;
  private readonly unlockActivities: number;
  private tracks = new Map<string, Track>();
  private ratio: SystemRatio;
  private lastSnapshotSec: number | null = null;
  private lastSlot = -1;
  /** Counts local days seen (a new one when the slot goes back or 23 h pass): readiness cache key. */
  private dayIndex = 0;
  /** Time of the document that ends a feed gap: its interval is blind. */
  private blindAtSec: number | null = null;
  private readonly scratch: Float64Array;

  constructor(opts: SeedOptions) {
    this.system = opts.system;
    this.minHistoryDays = opts.minHistoryDays ?? 7;
    this.windowSec = opts.windowSec ?? 1800;
    this.refs = [...(opts.referenceDaysAgo ?? [1, 7, 14, 21])].sort((a, b) => a - b);
    this.lockInactiveSec = opts.lockInactiveSec ?? 1800;
    this.lockMissing = opts.lockMissing ?? 30;
    this.unlockActivities = opts.unlockActivities ?? 2;
    this.ratio = new SystemRatio(this.windowSec, opts.maxRatio ?? 2);
    this.refPrefixes = this.refs.map((_, i) => this.refs.slice(0, i)).concat([this.refs]);
    this.scratch = new Float64Array(this.refs.length);
  }

  handle(event: LoggedEvent, activity: ActivityView): StateChange[] {
    const out: StateChange[] = [];
    switch (event.type) {
      case 'station_added':
        this.tracks.set(
          event.stationId,
          newTrack(
            event.stationId,
            event.timeSec,
            event.flags.installed,
            event.flags.renting,
            event.flags.returning,
          ),
        );
        break;
      case 'station_removed':
        this.tracks.delete(event.stationId);
        break;
      case 'status_changed': {
        const tr = this.track(event.stationId, event.timeSec);
        const wasOpen = isOpen(tr);
        tr[event.flag] = event.to;
        if (wasOpen !== isOpen(tr)) {
          // A declared problem masks detection; when it starts or ends, silence starts from zero.
          tr.countFromSec = event.timeSec;
          tr.inactiveSec = 0;
          tr.missing = 0;
          if (tr.state === 'locked')
            this.change(out, event, event.stationId, tr, tr.ready ? 'ok' : 'learning', 'feed_declared', null);
        }
        break;
      }
      case 'rented':
      case 'returned':
        this.onActivity(out, event, event.stationId, event.count);
        break;
      case 'feed_gap':
        this.blindAtSec = event.timeSec;
        break;
      case 'snapshot':
        this.onSnapshot(out, event, activity);
        break;
      default:
        break;
    }
    return out;
  }

  states(): Map<string, { state: DetectedState; sinceSec: number; confidence: number }> {
    const m = new Map<string, { state: DetectedState; sinceSec: number; confidence: number }>();
    for (const [id, tr] of this.tracks)
      m.set(id, { state: tr.state, sinceSec: tr.sinceSec, confidence: this.confidence(tr) });
    return m;
  }

  saveState(): unknown {
    return {
      version: STATE_VERSION,
      lastSnapshotSec: this.lastSnapshotSec,
      lastSlot: this.lastSlot,
      dayIndex: this.dayIndex,
      blindAtSec: this.blindAtSec,
      ratio: this.ratio.save(),
      tracks: [...this.tracks.values()].map((tr) => ({ ...tr })),
    };
  }

  restoreState(state: unknown): void {
    const s = state as {
      version?: unknown;
      lastSnapshotSec: number | null;
      lastSlot: number;
      dayIndex: number;
      blindAtSec: number | null;
      ratio: unknown;
      tracks: Track[];
    };
    if (s === null || typeof s !== 'object' || s.version !== STATE_VERSION || !Array.isArray(s.tracks)) {
      throw new Error(`seed detector: unsupported checkpoint (expected version ${STATE_VERSION})`);
    }
    this.lastSnapshotSec = s.lastSnapshotSec;
    this.lastSlot = s.lastSlot;
    this.dayIndex = s.dayIndex;
    this.blindAtSec = s.blindAtSec;
    this.ratio.restore(s.ratio);
    this.tracks = new Map(s.tracks.map((tr) => [tr.id, { ...tr }]));
  }

  private track(stationId: string, timeSec: number): Track {
    let tr = this.tracks.get(stationId);
    if (tr === undefined) {
      // An event for a station never added (detector started mid-log): assume the feed says open.
      tr = newTrack(stationId, timeSec, true, true, true);
      this.tracks.set(stationId, tr);
    }
    return tr;
  }

  private onActivity(out: StateChange[], event: LoggedEvent, stationId: string, count: number): void {
    const tr = this.track(stationId, event.timeSec);
    tr.lastActivitySec = event.timeSec;
    tr.inactiveSec = 0;
    tr.missing = 0;
    if (tr.ready && isOpen(tr)) this.ratio.addActivity(count);
    if (tr.state !== 'locked') return;
    tr.activitySinceLock += count;
    if (tr.activitySinceLock > this.unlockActivities) {
      const evidence: Evidence = {
        expected: tr.missingSinceLock,
        observed: tr.activitySinceLock,
        inactiveSec: 0,
        lockedSec: event.timeSec - tr.sinceSec,
      };
      this.change(out, event, stationId, tr, tr.ready ? 'ok' : 'learning', 'activity_resumed', evidence);
    }
  }

  private onSnapshot(out: StateChange[], event: LoggedEvent, view: ActivityView): void {
    const t = event.timeSec;
    const blind = this.blindAtSec === t;
    const elapsed = blind || this.lastSnapshotSec === null ? 0 : Math.max(0, t - this.lastSnapshotSec);
    const slot = view.slotOf(t);
    // A new local day: the slot went back, or 23 h passed (the shortest day). A false alarm only
    // costs a recomputation.
    if (this.lastSnapshotSec !== null && (slot < this.lastSlot || t - this.lastSnapshotSec >= 82_800))
      this.dayIndex++;
    this.lastSnapshotSec = t;
    this.lastSlot = slot;
    const key = Math.floor(t / 3600) * 144 + slot;

    let expectedTotal = 0;
    for (const tr of this.tracks.values()) {
      if (tr.windowKey !== key) this.refresh(tr, t, key, view);
      if (tr.ready && isOpen(tr)) expectedTotal += tr.expected;
    }
    const ratio = this.ratio.close(t, blind ? 0 : elapsed, expectedTotal);

    for (const tr of this.tracks.values()) {
      const id = tr.id;
      if (!tr.ready) {
        if (tr.state === 'ok') this.change(out, event, id, tr, 'learning', 'history_lost', null);
        continue;
      }
      if (tr.state === 'learning') {
        tr.countFromSec = t;
        tr.inactiveSec = 0;
        tr.missing = 0;
        this.change(out, event, id, tr, 'ok', 'history_ready', null);
        continue;
      }
      if (!isOpen(tr) || tr.lastActivitySec === t) continue;
      const sec = Math.min(elapsed, t - tr.countFromSec);
      if (sec <= 0) continue;
      const missing = (sec / this.windowSec) * tr.expected * ratio;
      tr.inactiveSec += sec;
      tr.missing += missing;
      if (tr.state === 'locked') tr.missingSinceLock += missing;
      else if (tr.inactiveSec > this.lockInactiveSec && tr.missing >= this.lockMissing) {
        tr.activitySinceLock = 0;
        tr.missingSinceLock = tr.missing;
        const evidence: Evidence = {
          expected: tr.missing,
          observed: 0,
          inactiveSec: tr.inactiveSec,
          ratio,
          expectedPerWindow: tr.expected,
          threshold: this.lockMissing,
        };
        this.change(out, event, id, tr, 'locked', 'missing_activity', evidence);
      }
    }
  }

  /** Readiness and expected activity for the window ending in the slot of `t` (past days only). */
  private refresh(tr: Track, t: number, key: number, view: ActivityView): void {
    const id = tr.id;
    tr.windowKey = key;
    if (tr.readyDay !== this.dayIndex) {
      tr.readyDay = this.dayIndex;
      tr.history = view.historyDays(id, t);
      tr.ready = tr.history >= this.minHistoryDays;
    }
    const history = tr.history;
    tr.expected = 0;
    if (!tr.ready) return;
    // Reference days the station has history for; the older ones join as history grows.
    let n = 0;
    while (n < this.refs.length && this.refs[n]! <= history) n++;
    const values = this.scratch;
    const slots = Math.round(this.windowSec / SLOT_SEC);
    if (view.windowCounts !== undefined) {
      view.windowCounts(id, t, slots, this.refPrefixes[n]!, values);
    } else {
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let k = 0; k < slots; k++) sum += view.slotCount(id, t - k * SLOT_SEC, this.refs[i]!);
        values[i] = sum;
      }
    }
    tr.expected = median(values, n);
  }

  private change(
    out: StateChange[],
    event: LoggedEvent,
    stationId: string,
    tr: Track,
    to: DetectedState,
    reason: string,
    evidence: Evidence | null,
  ): void {
    const from = tr.state;
    if (from === to) return;
    tr.state = to;
    tr.sinceSec = event.timeSec;
    if (to !== 'locked') {
      tr.activitySinceLock = 0;
      tr.missingSinceLock = 0;
    }
    out.push({
      system: this.system,
      stationId,
      timeSec: event.timeSec,
      from,
      to,
      detector: this.name,
      confidence: this.confidence(tr),
      reason,
      evidence,
      offset: event.offset,
    });
  }

  /**
   * 0 while learning. ok: 1, falling to 0.5 as missing activity approaches the lock threshold.
   * locked: 0.5 at the threshold, rising linearly to 1 at twice the threshold.
   */
  private confidence(tr: Track): number {
    if (tr.state === 'learning') return 0;
    const x = tr.missing / this.lockMissing;
    if (tr.state === 'locked') return Math.min(1, Math.max(0.5, 0.5 + 0.5 * (x - 1)));
    return 1 - 0.5 * Math.min(1, x);
  }
}

function newTrack(
  id: string,
  timeSec: number,
  installed: boolean,
  renting: boolean,
  returning: boolean,
): Track {
  return {
    id,
    installed,
    renting,
    returning,
    state: 'learning',
    sinceSec: timeSec,
    countFromSec: timeSec,
    lastActivitySec: null,
    inactiveSec: 0,
    missing: 0,
    activitySinceLock: 0,
    missingSinceLock: 0,
    windowKey: -1,
    readyDay: -1,
    history: 0,
    ready: false,
    expected: 0,
  };
}

function isOpen(tr: Track): boolean {
  return tr.installed && tr.renting && tr.returning;
}

/** Median of the first n values (n ≤ 4 here: a tiny insertion sort, no allocation). */
function median(values: Float64Array, n: number): number {
  if (n === 0) return 0;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
  const mid = n >> 1;
  return n % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}
