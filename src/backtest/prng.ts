/**
 * A small seeded PRNG so that a backtest is reproducible from `--seed` alone: the simulator's
 * mulberry32 stream (src/sim/prng.ts), seeded directly with `seed`, plus the draws the fault plan
 * needs.
 */
import { RngBank } from '../sim/index.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Log-uniform in [lo, hi): as many 1–2 h faults as 12–24 h ones. */
  logUniform(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number): Rng {
  const stream = new RngBank(0, 1);
  stream.states[0] = seed >>> 0;
  const next = (): number => stream.uniform(0);
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    uniform: (lo, hi) => lo + next() * (hi - lo),
    logUniform: (lo, hi) => Math.exp(Math.log(lo) + next() * (Math.log(hi) - Math.log(lo))),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}
