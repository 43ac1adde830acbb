import { applyDiff, diffInformation, diffSnapshots } from '../events/index.js';
import type { FeedEvent, LoggedEvent } from '../events/index.js';
import type { InformationDocument, StationInfo, StationStatus, StatusDocument } from '../feed/model.js';
import { metrics } from '../metrics/index.js';
import type { DiffState, Store } from '../storage/types.js';

/**
 * The producer: turns accepted documents into events in the durable log. Its memory (DiffState) is
 * saved with the events in one step (`Store.commitDiff`), and appends are idempotent, so after a
 * crash the same document diffed again appends nothing twice.
 */
export class Producer {
  private state: DiffState | null = null;
  private readonly info = new Map<string, StationInfo>();

  constructor(
    private readonly store: Store,
    readonly system: string,
    private readonly opts: { gapThresholdSec: number },
  ) {}

  async init(): Promise<void> {
    this.state = await this.store.loadDiffState(this.system);
    for (const station of await this.store.listStationInfo(this.system))
      this.info.set(station.stationId, station);
  }

  get lastDocumentSec(): number | null {
    return this.diffState().lastDocumentSec;
  }

  /** Station catalogue as last seen (names, codes, positions). */
  stationInfo(): ReadonlyMap<string, StationInfo> {
    return this.info;
  }

  /** True when the document names a station that station_information does not know yet. */
  hasUnknownStation(doc: StatusDocument): boolean {
    for (const s of doc.stations) if (!this.info.has(s.stationId)) return true;
    return false;
  }

  async ingestInformation(doc: InformationDocument): Promise<LoggedEvent[]> {
    const state = this.diffState();
    // Feeds republish the whole catalogue at every ttl; only what changed is written.
    const changed = doc.stations.filter((s) => !sameInfo(this.info.get(s.stationId), s));
    for (const station of changed) this.info.set(station.stationId, station);
    if (changed.length > 0) await this.store.saveStationInfo(this.system, changed);
    const { events, capacities } = diffInformation(this.system, state.capacities, doc);
    if (events.length === 0) {
      state.capacities = capacities;
      return [];
    }
    const logged = await this.store.commitDiff(this.system, events, {
      lastDocumentSec: state.lastDocumentSec ?? 0,
      changed: [],
      removed: [],
      capacities,
    });
    state.capacities = capacities;
    this.count(logged);
    return logged;
  }

  /**
   * Diff one station_status document against the last accepted one and commit. Documents not newer
   * than the last one produce nothing (a restart re-reading an archive skips what it has done).
   */
  async ingestStatus(doc: StatusDocument, rejectedStationIds?: Set<string>): Promise<LoggedEvent[]> {
    const state = this.diffState();
    if (state.lastDocumentSec !== null && doc.lastUpdatedSec <= state.lastDocumentSec) return [];
    const result = diffSnapshots(this.system, state, doc, {
      gapThresholdSec: this.opts.gapThresholdSec,
      info: this.info,
      ...(rejectedStationIds ? { rejectedStationIds } : {}),
    });
    const logged = await this.store.commitDiff(this.system, result.events, {
      lastDocumentSec: doc.lastUpdatedSec,
      changed: withEvents(result.changed, result.events),
      removed: result.removed,
      capacities: state.capacities,
    });
    // Only once the store has it: a failed commit leaves memory as it was, and the document can be retried.
    applyDiff(state, doc.lastUpdatedSec, result);
    metrics.documents.inc({ system: this.system });
    this.count(logged);
    return logged;
  }

  private count(events: LoggedEvent[]): void {
    // One counter update per type, not per event: a document can make hundreds of events.
    const byType = new Map<string, number>();
    for (const e of events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    for (const [type, n] of byType) metrics.events.inc({ system: this.system, type }, n);
  }

  private diffState(): DiffState {
    if (!this.state) throw new Error('Producer.init() must be awaited first');
    return this.state;
  }
}

/**
 * Stations whose stored status must be rewritten: those with an event. Most feeds refresh
 * `last_reported` of every station at every poll; persisting that would rewrite every row each
 * minute for nothing the pipeline needs (the diff compares counts and flags), so such stations
 * stay updated in memory only. After a restart their `lastReportedSec` may be older: harmless.
 */
function withEvents(changed: StationStatus[], events: readonly FeedEvent[]): StationStatus[] {
  if (changed.length === 0) return changed;
  const touched = new Set<string>();
  for (const e of events) if ('stationId' in e) touched.add(e.stationId);
  return changed.filter((s) => touched.has(s.stationId));
}

function sameInfo(a: StationInfo | undefined, b: StationInfo): boolean {
  return (
    a !== undefined &&
    a.code === b.code &&
    a.name === b.name &&
    a.lat === b.lat &&
    a.lon === b.lon &&
    a.capacity === b.capacity
  );
}
