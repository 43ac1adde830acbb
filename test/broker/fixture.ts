/**
 * Simulated cities for the broker tests, and the embedded (one-process, SQLite) run that every
 * distributed run must equal: same events, same activity, same state changes, same states.
 */
import path from 'node:path';
import { parseStationInformation, parseStationStatus } from '../../src/feed/index.js';
import type { InformationDocument, StatusDocument } from '../../src/feed/model.js';
import type { FeedEvent } from '../../src/events/types.js';
import { Pipeline } from '../../src/pipeline/index.js';
import { generateDocuments, Simulation } from '../../src/sim/index.js';
import { openSqliteStore, type Store } from '../../src/storage/index.js';
import type { JetStreamLog } from '../../src/broker/index.js';
import { busiestFirst } from '../helpers/sim-archive.js';

export const TIME_ZONE = 'Europe/Paris';
export const STEP_SEC = 600;
export const MIN_HISTORY_DAYS = 1;
export const GAP_SEC = 3 * STEP_SEC;

export interface City {
  system: string;
  info: InformationDocument;
  docs: StatusDocument[];
}

/** `days` of documents every 10 min; the busiest stations lock on the last day. */
export function makeCity(system: string, opts: { stations: number; days: number; locks: number }): City {
  const fromSec = Date.UTC(2026, 4, 4, 6) / 1000;
  const base = {
    seed: `broker-${system}`,
    stations: { synthetic: { count: opts.stations } },
    startSec: fromSec,
  };
  const ids = busiestFirst(new Simulation(base).stations);
  const lockFromSec = fromSec + (opts.days - 1) * 86_400;
  const city = {
    ...base,
    faults: ids.slice(0, opts.locks).map((stationId) => ({
      kind: 'locked' as const,
      stationId,
      startSec: lockFromSec,
      durationSec: 86_400,
    })),
  };
  let info: InformationDocument | null = null;
  const docs: StatusDocument[] = [];
  for (const d of generateDocuments({
    ...city,
    fromSec,
    toSec: fromSec + opts.days * 86_400,
    stepSec: STEP_SEC,
  })) {
    if (d.informationDoc) {
      const r = parseStationInformation(d.informationDoc);
      if (!r.ok) throw new Error('bad simulated station_information');
      info = r.doc;
    }
    const r = parseStationStatus(d.statusDoc);
    if (!r.ok) throw new Error('bad simulated station_status');
    docs.push(r.doc);
  }
  if (info === null) throw new Error('no station_information');
  return { system, info, docs };
}

export interface Dump {
  events: FeedEvent[];
  activity: unknown[];
  changes: unknown[];
  states: unknown[];
}

/** Effects of a run on a store, without what only numbers rows or differs by log (ids, offsets). */
export async function dumpEffects(store: Store, system: string): Promise<Omit<Dump, 'events'>> {
  const changes = (await store.listStateChanges({ system, limit: 10_000_000 }))
    .map(({ id: _id, offset: _offset, ...c }) => c)
    .reverse();
  const activity = (await store.loadActivity(system, 0)).sort(
    (a, b) => a.day - b.day || a.slot - b.slot || a.stationId.localeCompare(b.stationId),
  );
  const states = (await store.listDetectedStates(system)).sort((a, b) =>
    a.stationId.localeCompare(b.stationId),
  );
  return { activity, changes, states };
}

export function withoutOffset<T extends { offset: number }>(events: T[]): FeedEvent[] {
  return events.map(({ offset: _o, ...e }) => e as unknown as FeedEvent);
}

/** The embedded pipeline over the same documents: the reference. */
export async function embeddedRun(city: City, dir: string): Promise<Dump> {
  const store = openSqliteStore({ path: path.join(dir, `embedded-${city.system}.sqlite`) });
  await store.migrate();
  const pipeline = await Pipeline.open({
    store,
    system: city.system,
    timeZone: TIME_ZONE,
    detector: 'seed',
    minHistoryDays: MIN_HISTORY_DAYS,
    gapThresholdSec: GAP_SEC,
  });
  await pipeline.ingestInformation(city.info);
  for (const doc of city.docs) await pipeline.ingestStatus(doc);
  await pipeline.flush();
  const events = withoutOffset(await store.log.read(0, 10_000_000));
  const effects = await dumpEffects(store, city.system);
  await store.close();
  return { events, ...effects };
}

/** Everything of one system in the JetStream log, oldest first. */
export async function streamEvents(log: JetStreamLog, system: string): Promise<FeedEvent[]> {
  const view = log.forSystem(system);
  const out: FeedEvent[] = [];
  let offset = 0;
  for (;;) {
    const page = await view.read(offset, 5_000);
    if (page.length === 0) break;
    out.push(...withoutOffset(page));
    offset = page[page.length - 1]!.offset;
  }
  await view.close();
  return out;
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
