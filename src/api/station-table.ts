/**
 * The station list of GET /stations as columns: one array per field, station i at index i of
 * every array (`code[i]`, `name[i]`, `bikes.mechanical[i]`…), in code order.
 *
 * Why columns: 1,500 stations as objects repeat ~20 keys per station and interleave text with
 * numbers; gzip's 32 KB window then finds few long matches and the list weighs 48 KB gzip
 * (37 KB brotli). The same values column by column put like next to like (names together,
 * latitudes together, "ok" 1,400 times in a row): 35 KB gzip, 28 KB brotli, nothing dropped
 * (docs/performance.md §5). The same layout as Apache Arrow's or a data frame's, in plain JSON.
 *
 * Pure functions with type-only imports: the web app decodes with `stationsFromColumns` too.
 */
import type { DeclaredState, StationState } from '../detection/types.js';
import type { StationView } from './station-view.js';

/** A station as the list shows it (the feed station_id and report time are on the station page). */
export type StationListItem = Omit<StationView, 'id' | 'lastReported'>;

export interface StationColumns {
  code: string[];
  name: string[];
  lat: number[];
  lon: number[];
  capacity: (number | null)[];
  bikes: { mechanical: number[]; electric: number[]; other: number[] };
  docks: number[];
  blockedDocks: number[];
  bikesDisabled: number[];
  docksDisabled: number[];
  declared: DeclaredState[];
  detected: StationState[];
  state: StationState[];
  since: (number | null)[];
  confidence: (number | null)[];
  detector: (string | null)[];
  lastActivity: (number | null)[];
}

export function stationsToColumns(items: readonly StationListItem[]): StationColumns {
  const c: StationColumns = {
    code: [],
    name: [],
    lat: [],
    lon: [],
    capacity: [],
    bikes: { mechanical: [], electric: [], other: [] },
    docks: [],
    blockedDocks: [],
    bikesDisabled: [],
    docksDisabled: [],
    declared: [],
    detected: [],
    state: [],
    since: [],
    confidence: [],
    detector: [],
    lastActivity: [],
  };
  for (const s of items) {
    c.code.push(s.code);
    c.name.push(s.name);
    c.lat.push(s.lat);
    c.lon.push(s.lon);
    c.capacity.push(s.capacity);
    c.bikes.mechanical.push(s.bikes.mechanical);
    c.bikes.electric.push(s.bikes.electric);
    c.bikes.other.push(s.bikes.other);
    c.docks.push(s.docks);
    c.blockedDocks.push(s.blockedDocks);
    c.bikesDisabled.push(s.bikesDisabled);
    c.docksDisabled.push(s.docksDisabled);
    c.declared.push(s.declared);
    c.detected.push(s.detected);
    c.state.push(s.state);
    c.since.push(s.since);
    c.confidence.push(s.confidence);
    c.detector.push(s.detector);
    c.lastActivity.push(s.lastActivity);
  }
  return c;
}

/** Back to one object per station; throws when the columns do not all have the same length. */
export function stationsFromColumns(c: StationColumns): StationListItem[] {
  const n = c.code.length;
  const lengths = [
    c.name,
    c.lat,
    c.lon,
    c.capacity,
    c.bikes.mechanical,
    c.bikes.electric,
    c.bikes.other,
    c.docks,
    c.blockedDocks,
    c.bikesDisabled,
    c.docksDisabled,
    c.declared,
    c.detected,
    c.state,
    c.since,
    c.confidence,
    c.detector,
    c.lastActivity,
  ].map((col) => col.length);
  if (lengths.some((len) => len !== n))
    throw new Error(`station columns of different lengths (${n} codes, ${lengths.join(', ')})`);
  const out: StationListItem[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      code: c.code[i]!,
      name: c.name[i]!,
      lat: c.lat[i]!,
      lon: c.lon[i]!,
      capacity: c.capacity[i] ?? null,
      bikes: { mechanical: c.bikes.mechanical[i]!, electric: c.bikes.electric[i]!, other: c.bikes.other[i]! },
      docks: c.docks[i]!,
      blockedDocks: c.blockedDocks[i]!,
      bikesDisabled: c.bikesDisabled[i]!,
      docksDisabled: c.docksDisabled[i]!,
      declared: c.declared[i]!,
      detected: c.detected[i]!,
      state: c.state[i]!,
      since: c.since[i] ?? null,
      confidence: c.confidence[i] ?? null,
      detector: c.detector[i] ?? null,
      lastActivity: c.lastActivity[i] ?? null,
    });
  }
  return out;
}
