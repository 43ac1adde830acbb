/**
 * History without HTTP: the documents the server would have served, every `stepSec` from `fromSec`
 * to `toSec`, in a few seconds for weeks of data (the demo pre-fills its store with them through the
 * replay pipeline). Feed faults act as the server would make them look to a poller: an outage yields
 * no document, a frozen timestamp yields documents with the frozen last_updated; malformed bodies
 * cannot be expressed as objects and are ignored here.
 */
import type { SimShape } from './documents.js';
import { Simulation, type SimulationOptions } from './simulation.js';

export interface GenerateOptions extends Omit<SimulationOptions, 'startSec'> {
  fromSec: number;
  /** Inclusive. */
  toSec: number;
  /** Simulated seconds between two documents (a multiple of simStepSec gives evenly spaced documents). */
  stepSec: number;
  /** Default: GBFS 2.3. */
  shape?: SimShape;
}

export interface GeneratedDocument {
  /** Simulated time of the state (equal to last_updated unless a frozen_timestamp fault holds it). */
  timeSec: number;
  statusDoc: object;
  /** On the first document only: station_information never changes during a simulation. */
  informationDoc?: object;
}

export function* generateDocuments(opts: GenerateOptions): Generator<GeneratedDocument, void, undefined> {
  if (!(opts.stepSec > 0)) throw new Error('generateDocuments: stepSec must be > 0');
  const shape = opts.shape ?? 'gbfs';
  const sim = new Simulation({ ...opts, startSec: opts.fromSec });
  let first = true;
  for (let t = sim.startSec; t <= opts.toSec; t += opts.stepSec) {
    sim.advanceTo(t);
    if (sim.faults.outageAt(t) !== null) continue;
    const statusDoc = sim.document(shape, 'station_status') as object;
    if (first) {
      first = false;
      yield {
        timeSec: sim.model.timeSec,
        statusDoc,
        informationDoc: sim.document(shape, 'station_information') as object,
      };
    } else {
      yield { timeSec: sim.model.timeSec, statusDoc };
    }
  }
}
