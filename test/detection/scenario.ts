/**
 * Small hand-made event traces for detector tests: a few stations, one document every ten
 * minutes, activity chosen per station and document. Events go through the real ActivityModel.
 */
import { ActivityModel } from '../../src/activity/index.js';
import type { Detector, StateChange, StationStateMachine } from '../../src/detection/index.js';
import type { FeedEvent, LoggedEvent } from '../../src/events/index.js';

export const SYSTEM = 'test';
export const TZ = 'Europe/Paris';
/** 2025-11-03 00:00 in Paris (UTC+1), a Monday; no DST change for months after. */
export const START = Date.parse('2025-11-02T23:00:00Z') / 1000;
export const DOC_SEC = 600;
export const DAY = 86_400;
/** Local time `hh:mm` on day `d` of the trace. */
export const at = (d: number, hh: number, mm = 0) => START + d * DAY + hh * 3600 + mm * 60;

const after = {
  bikes: { mechanical: 0, electric: 0, other: 0 },
  docksAvailable: 0,
  bikesDisabled: 0,
  docksDisabled: 0,
};

export interface TraceOptions {
  stations: string[];
  /** Last document time (inclusive); documents every DOC_SEC from START. */
  untilSec: number;
  /** Rentals + returns of a station in the document at `t`. */
  activity: (stationId: string, t: number) => number;
  /** [from, to): no document is published in these spans. */
  gaps?: [number, number][];
  /** Extra station events of the document at `t` (e.g. status_changed), before its snapshot. */
  extra?: (t: number) => FeedEvent[];
}

export function trace(opts: TraceOptions): LoggedEvent[] {
  const out: FeedEvent[] = [];
  let prev: number | null = null;
  for (let t = START; t <= opts.untilSec; t += DOC_SEC) {
    if (opts.gaps?.some(([a, b]) => t >= a && t < b)) continue;
    if (prev === null) {
      for (const stationId of opts.stations) {
        out.push({
          system: SYSTEM,
          timeSec: t,
          type: 'station_added',
          stationId,
          after,
          flags: { installed: true, renting: true, returning: true },
          info: null,
        });
      }
    } else {
      if (t - prev > DOC_SEC) {
        out.push({ system: SYSTEM, timeSec: t, type: 'feed_gap', fromSec: prev });
        out.push({ system: SYSTEM, timeSec: t, type: 'feed_resumed', gapSec: t - prev });
      }
      for (const stationId of opts.stations) {
        const n = opts.activity(stationId, t);
        // Split like a real diff: rentals of one type, returns of another.
        const rented = Math.ceil(n / 2);
        if (rented > 0)
          out.push({
            system: SYSTEM,
            timeSec: t,
            type: 'rented',
            stationId,
            after,
            bikeType: 'mechanical',
            count: rented,
          });
        if (n - rented > 0)
          out.push({
            system: SYSTEM,
            timeSec: t,
            type: 'returned',
            stationId,
            after,
            bikeType: 'electric',
            count: n - rented,
          });
      }
    }
    if (opts.extra) out.push(...opts.extra(t));
    out.push({
      system: SYSTEM,
      timeSec: t,
      type: 'snapshot',
      stations: opts.stations.length,
      intervalSec: prev === null ? null : t - prev,
    });
    prev = t;
  }
  return out.map((e, i) => ({ ...e, offset: i + 1 }));
}

/** Feeds events to the activity model then to the detector (and the state machine); returns all changes. */
export function run(
  events: LoggedEvent[],
  detector: Detector,
  model = new ActivityModel({ timeZone: TZ }),
  machine?: StationStateMachine,
): { detected: StateChange[]; shown: StateChange[]; model: ActivityModel } {
  const detected: StateChange[] = [];
  const shown: StateChange[] = [];
  for (const e of events) {
    model.apply(e);
    const changes = detector.handle(e, model);
    detected.push(...changes);
    if (machine) shown.push(...machine.apply(e, changes));
  }
  return { detected, shown, model };
}

export const busy = (n: number) => Array.from({ length: n }, (_, i) => `b${i}`);
