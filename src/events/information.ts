import type { InformationDocument } from '../feed/model.js';
import type { FeedEvent } from './types.js';

export interface InformationDiff {
  events: FeedEvent[];
  /** Last known capacity per station: this document's values, plus stations it omits (kept as they were). */
  capacities: Map<string, number | null>;
}

/**
 * `capacity_changed` for every station whose capacity differs from the last known one. A station
 * not known yet counts as `null`, so the log carries every capacity a detector may need (an empty
 * or full station behaves differently) without reading station_information itself.
 * A station missing from one information document keeps its last capacity: information feeds often
 * lag behind status feeds, and a missing entry says nothing about the docks.
 * Pure: `prevCapacities` is not modified. Time is the information document's own timestamp.
 */
export function diffInformation(
  system: string,
  prevCapacities: Map<string, number | null>,
  info: InformationDocument,
): InformationDiff {
  const events: FeedEvent[] = [];
  const capacities = new Map(prevCapacities);
  const timeSec = info.lastUpdatedSec;
  for (const s of info.stations) {
    const from = prevCapacities.get(s.stationId) ?? null;
    const to = s.capacity;
    if (from !== to)
      events.push({ system, timeSec, type: 'capacity_changed', stationId: s.stationId, from, to });
    capacities.set(s.stationId, to);
  }
  return { events, capacities };
}
