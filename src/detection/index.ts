export * from './types.js';
export { declaredStateOf, type StatusFlags } from './declared.js';
export { SeedDetector, type SeedOptions } from './seed.js';
export { StationStateMachine, type CombinedState } from './state-machine.js';
export {
  createDetector,
  registerDetector,
  detectorNames,
  type DetectorOptions,
  type DetectorMaker,
} from './registry.js';
export { PoissonDetector, type PoissonOptions } from './poisson.js';
