import { parseStationInformation, parseStationStatus } from '../feed/parse/index.js';
import { Pipeline } from '../pipeline/index.js';
import type { SimulatorHandle } from '../sim/index.js';
import type { Store } from '../storage/index.js';

export interface PrefillOptions {
  sim: SimulatorHandle;
  store: Store;
  system: string;
  timeZone: string;
  /** Simulated time to stop at (the simulator is left there, ready to serve live). */
  untilSec: number;
  stepSec: number;
  detector?: string;
}

/**
 * Feeds a (paused) simulator's own past through the pipeline without HTTP: weeks of usual
 * activity in seconds, continuous with what the simulator serves next. Returns the station ids,
 * busiest first (the demo locks busy stations: those are the ones a detector can judge quickly).
 */
export async function prefillFromSimulator(opts: PrefillOptions): Promise<string[]> {
  const { sim, store, system, timeZone } = opts;
  await store.upsertSystem({ id: system, name: system, feedUrl: `${sim.url}/gbfs.json`, timezone: timeZone });
  const pipeline = await Pipeline.open({
    store,
    system,
    timeZone,
    detector: opts.detector ?? 'seed',
    minHistoryDays: 7,
    gapThresholdSec: 3 * opts.stepSec,
  });
  const info = parseStationInformation(sim.simulation.document('gbfs', 'station_information'));
  if (info.ok) await pipeline.ingestInformation(info.doc);
  const activity = new Map<string, number>();
  while (sim.nowSec() < opts.untilSec) {
    sim.advanceSec(Math.min(opts.stepSec, opts.untilSec - sim.nowSec()));
    sim.simulation.advanceTo(sim.nowSec());
    const parsed = parseStationStatus(sim.simulation.document('gbfs', 'station_status'));
    if (!parsed.ok) continue;
    for (const e of await pipeline.ingestStatus(parsed.doc)) {
      if (e.type === 'rented' || e.type === 'returned')
        activity.set(e.stationId, (activity.get(e.stationId) ?? 0) + e.count);
    }
  }
  await pipeline.flush();
  return [...activity].sort((a, b) => b[1] - a[1]).map(([id]) => id);
}
