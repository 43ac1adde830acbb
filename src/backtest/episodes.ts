/** Turns a detector's state changes into alarm episodes: the spans a station spent in an alarm state. */
import type { DetectedState, StateChange, StationState } from '../detection/types.js';

/** Alarms about the station's rentals and returns as a whole (the lock family). */
export const ALARM_STATES: ReadonlySet<StationState> = new Set<StationState>([
  'locked',
  'rent_blocked',
  'return_blocked',
]);

/**
 * Alarms about some bikes or docks of a station that otherwise works. Scored apart: a real stuck
 * bike before a lock must not mask that lock, and the false-alarm rate of locks (the goal,
 * compared with `seed`, which has no such alarm) must not mix with them.
 */
export const STUCK_STATES: ReadonlySet<StationState> = new Set<StationState>([
  'bikes_stuck',
  'docks_blocked',
]);

export type AlarmFamily = 'lock' | 'stuck';

export interface AlarmEpisode {
  family: AlarmFamily;
  stationId: string;
  startSec: number;
  /** null while still open at the end of the trace. */
  endSec: number | null;
  /** The first alarm state, and every alarm state the episode went through. */
  firstState: DetectedState;
  states: DetectedState[];
  confidence: number;
  /**
   * When the silence behind the alarm began (time − evidence.inactiveSec; blind time is not in
   * inactiveSec, so this errs late). null when the detector gave no evidence.
   */
  silenceStartSec: number | null;
}

/**
 * One episode from entering any alarm state of a family until leaving all of them: rent_blocked →
 * locked is one alarm to a person, not two. Both families' episodes, by start time.
 */
export function episodesFrom(changes: readonly StateChange[]): AlarmEpisode[] {
  return [
    ...familyEpisodes(changes, 'lock', ALARM_STATES),
    ...familyEpisodes(changes, 'stuck', STUCK_STATES),
  ].sort((a, b) => a.startSec - b.startSec);
}

function familyEpisodes(
  changes: readonly StateChange[],
  family: AlarmFamily,
  states: ReadonlySet<StationState>,
): AlarmEpisode[] {
  const open = new Map<string, AlarmEpisode>();
  const done: AlarmEpisode[] = [];
  for (const c of changes) {
    const inAlarm = states.has(c.to);
    const ep = open.get(c.stationId);
    if (inAlarm) {
      const state = c.to as DetectedState;
      if (ep) {
        if (!ep.states.includes(state)) ep.states.push(state);
        ep.confidence = Math.max(ep.confidence, c.confidence);
      } else {
        const e: AlarmEpisode = {
          family,
          stationId: c.stationId,
          startSec: c.timeSec,
          endSec: null,
          firstState: state,
          states: [state],
          confidence: c.confidence,
          silenceStartSec: c.evidence ? c.timeSec - c.evidence.inactiveSec : null,
        };
        open.set(c.stationId, e);
        done.push(e);
      }
    } else if (ep) {
      ep.endSec = c.timeSec;
      open.delete(c.stationId);
    }
  }
  return done;
}
