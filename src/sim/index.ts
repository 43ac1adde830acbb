/**
 * sim/: a synthetic, realistic bike-share feed (GBFS 2.3 and Vélib'-shaped) with injectable faults,
 * for `dockwatch simulate`, the demo and end-to-end tests.
 */
export { startSimulator, type SimulatorHandle, type SimulatorOptions } from './server.js';
export { generateDocuments, type GenerateOptions, type GeneratedDocument } from './generate.js';
export { Simulation, type SimulationOptions } from './simulation.js';
export {
  FaultSpecError,
  SIM_FEEDS,
  parseDurationSec,
  parseFaultFlag,
  validateFaultSpec,
  type FaultKind,
  type FaultSpec,
  type FaultSpecInput,
  type SimFeed,
} from './fault-spec.js';
export type { FaultStatus, FaultView } from './faults.js';
export type { ControlState } from './control.js';
export type { SimShape } from './documents.js';
export {
  loadStations,
  syntheticCity,
  type SimStationDef,
  type StationSource,
  type SyntheticCityOptions,
} from './stations.js';
export { RngBank, Rng, hashString, seedToU32 } from './prng.js';
