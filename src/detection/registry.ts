import { PoissonDetector } from './poisson.js';
import { SeedDetector } from './seed.js';
import type { Detector } from './types.js';

/** Options every detector accepts; a detector reads its own extra options and ignores the rest. */
export type DetectorOptions = { system: string; minHistoryDays: number } & Record<string, unknown>;
export type DetectorMaker = (opts: DetectorOptions) => Detector;

const makers = new Map<string, DetectorMaker>([
  ['seed', (opts) => new SeedDetector(opts)],
  ['poisson', (opts) => new PoissonDetector(opts)],
]);

/** Makes a detector available by name (e.g. `--detectors seed,<yours>`). Names are unique. */
export function registerDetector(name: string, maker: DetectorMaker): void {
  if (makers.has(name)) throw new Error(`A detector named "${name}" is already registered`);
  makers.set(name, maker);
}

export function detectorNames(): string[] {
  return [...makers.keys()].sort();
}

export function createDetector(name: string, opts: DetectorOptions): Detector {
  const make = makers.get(name);
  if (make === undefined) {
    throw new Error(`Unknown detector "${name}". Known detectors: ${detectorNames().join(', ')}`);
  }
  return make(opts);
}
