import type { LoggedEvent } from '../events/types.js';
import { declaredStateOf, type StatusFlags } from './declared.js';
import {
  DETECTED_STATES,
  type DeclaredState,
  type DetectedState,
  type StateChange,
  type StationState,
} from './types.js';

export interface CombinedState {
  state: StationState;
  sinceSec: number;
  /** Who decided the current state: `feed` or a detector's name. */
  detector: string;
  confidence: number;
}

interface Entry extends CombinedState {
  flags: StatusFlags;
  declared: DeclaredState;
  detected: DetectedState;
}

const FEED = 'feed';
const DETECTED: ReadonlySet<string> = new Set(DETECTED_STATES);
const STATE_VERSION = 1;

/**
 * The single state people see. The feed's own word wins: a station the feed declares closed,
 * inactive, not renting or not returning shows that, whatever a detector thinks; otherwise the
 * detector's state shows. Detectors must not accumulate evidence while a problem is declared
 * (the `seed` detector tracks the flags from the same events and pauses).
 *
 * Stations start as `learning`. Exactly one change is emitted per station and event when the shown
 * state moves, never one with from === to; changes caused by the flags are signed `feed`, confidence 1.
 */
export class StationStateMachine {
  private stations = new Map<string, Entry>();

  constructor(private readonly system: string) {}

  /** One logged event plus the changes the detector returned for it → changes of the shown state. */
  apply(event: LoggedEvent, detected: readonly StateChange[]): StateChange[] {
    const out: StateChange[] = [];
    let declaredMoved: string | null = null;
    if (event.type === 'station_added') {
      const prev = this.stations.get(event.stationId);
      const entry = prev ?? newEntry(event.timeSec);
      entry.flags = { ...event.flags };
      this.stations.set(event.stationId, entry);
      declaredMoved = this.redeclare(entry) ? event.stationId : null;
    } else if (event.type === 'status_changed') {
      const entry = this.entry(event.stationId, event.timeSec);
      entry.flags[event.flag] = event.to;
      declaredMoved = this.redeclare(entry) ? event.stationId : null;
    } else if (event.type === 'station_removed') {
      this.stations.delete(event.stationId);
    }

    for (const c of detected) {
      // A detector speaks only of detected states; anything else is not its to say.
      if (!DETECTED.has(c.to)) continue;
      const entry = this.entry(c.stationId, c.timeSec);
      entry.detected = c.to as DetectedState;
      // The feed-caused change of this station is emitted once, below, signed `feed`.
      if (c.stationId === declaredMoved) continue;
      const to = shown(entry);
      if (to !== entry.state)
        out.push(this.move(entry, c.stationId, event, to, c.detector, c.confidence, c.reason, c.evidence));
    }

    if (declaredMoved !== null) {
      const entry = this.stations.get(declaredMoved)!;
      const to = shown(entry);
      const reason = entry.declared === 'open' ? 'feed_cleared' : 'feed_declared';
      if (to !== entry.state) out.push(this.move(entry, declaredMoved, event, to, FEED, 1, reason, null));
    }
    return out;
  }

  state(stationId: string): StationState | undefined {
    return this.stations.get(stationId)?.state;
  }

  states(): Map<string, CombinedState> {
    const m = new Map<string, CombinedState>();
    for (const [id, e] of this.stations)
      m.set(id, { state: e.state, sinceSec: e.sinceSec, detector: e.detector, confidence: e.confidence });
    return m;
  }

  saveState(): unknown {
    return {
      version: STATE_VERSION,
      stations: [...this.stations].map(([id, e]) => [id, { ...e, flags: { ...e.flags } }]),
    };
  }

  restoreState(state: unknown): void {
    const s = state as { version?: unknown; stations?: [string, Entry][] };
    if (s === null || typeof s !== 'object' || s.version !== STATE_VERSION || !Array.isArray(s.stations)) {
      throw new Error(`state machine: unsupported checkpoint (expected version ${STATE_VERSION})`);
    }
    this.stations = new Map(s.stations.map(([id, e]) => [id, { ...e, flags: { ...e.flags } }]));
  }

  private entry(stationId: string, timeSec: number): Entry {
    let e = this.stations.get(stationId);
    if (e === undefined) {
      e = newEntry(timeSec);
      this.stations.set(stationId, e);
    }
    return e;
  }

  /** Recomputes the declared state from the flags; true when it changed. */
  private redeclare(entry: Entry): boolean {
    const declared = declaredStateOf(entry.flags);
    if (declared === entry.declared) return false;
    entry.declared = declared;
    return true;
  }

  private move(
    entry: Entry,
    stationId: string,
    event: LoggedEvent,
    to: StationState,
    detector: string,
    confidence: number,
    reason: string,
    evidence: StateChange['evidence'],
  ): StateChange {
    const from = entry.state;
    entry.state = to;
    entry.sinceSec = event.timeSec;
    entry.detector = detector;
    entry.confidence = confidence;
    return {
      system: this.system,
      stationId,
      timeSec: event.timeSec,
      from,
      to,
      detector,
      confidence,
      reason,
      evidence,
      offset: event.offset,
    };
  }
}

function newEntry(timeSec: number): Entry {
  return {
    state: 'learning',
    sinceSec: timeSec,
    detector: FEED,
    confidence: 0,
    flags: { installed: true, renting: true, returning: true },
    declared: 'open',
    detected: 'learning',
  };
}

function shown(e: Entry): StationState {
  return e.declared === 'open' ? e.detected : e.declared;
}
