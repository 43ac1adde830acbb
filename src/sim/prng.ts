/**
 * Seeded pseudo-random numbers, written here.
 *
 * Generator: mulberry32 (Tommy Ettinger, public domain, 2017): 32-bit state, one add + two multiplies
 * per draw, passes PractRand to a few GB — plenty for a traffic simulator, and the state fits in one
 * slot of a Uint32Array, so each station can own an independent stream without allocating objects.
 * Per-station streams matter: a fault at one station changes how many numbers *that* station draws,
 * and must not shift the random numbers of every other station (ground truth would then move too).
 *
 * Seeds: strings are hashed with FNV-1a (32 bit); sub-stream seeds are derived with the splitmix32
 * finaliser (the mixing function of Steele, Lea & Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014, reduced to 32 bits).
 */

const TWO_POW_32 = 4294967296;

/** FNV-1a 32-bit hash of a string: seeds given as text on the command line. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32-style avalanche: nearby inputs (station 1, 2, 3…) give unrelated seeds. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed given as number or text, as a uint32. */
export function seedToU32(seed: number | string): number {
  if (typeof seed === 'number' && Number.isInteger(seed)) return seed >>> 0;
  return hashString(String(seed));
}

/** Seed of sub-stream `index` of a root seed. */
export function subSeed(rootSeed: number, index: number): number {
  return mix32(rootSeed ^ mix32(index + 1));
}

/**
 * Many independent mulberry32 streams in one Uint32Array (no object per station).
 * `uniform(i)` advances stream i and returns a float in [0, 1).
 */
export class RngBank {
  readonly states: Uint32Array;

  constructor(rootSeed: number, count: number) {
    this.states = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.states[i] = subSeed(rootSeed, i);
  }

  uniform(i: number): number {
    const a = ((this.states[i] as number) + 0x6d2b79f5) | 0;
    this.states[i] = a >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  }

  /** Standard normal draw (Box–Muller; one of the pair is dropped to keep the state a single word). */
  normal(i: number): number {
    const u1 = 1 - this.uniform(i); // (0, 1]: log(0) impossible
    const u2 = this.uniform(i);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Poisson draw. Knuth's multiplication method (TAOCP vol. 2, 3.4.1) for small means — the usual
   * case here (a station sees well under one event per simulated minute) costs 1–2 uniforms; the
   * normal approximation above 30 where Knuth's method would need too many draws.
   */
  poisson(i: number, mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) {
      const x = Math.round(mean + Math.sqrt(mean) * this.normal(i));
      return x < 0 ? 0 : x;
    }
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.uniform(i);
    while (p > limit) {
      k++;
      p *= this.uniform(i);
    }
    return k;
  }
}

/** A single stream, for one-off set-up work (building the synthetic city). */
export class Rng {
  private readonly bank: RngBank;
  constructor(seed: number) {
    this.bank = new RngBank(seed, 1);
  }
  uniform(): number {
    return this.bank.uniform(0);
  }
  normal(): number {
    return this.bank.normal(0);
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.uniform() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.uniform() * items.length)] as T;
  }
}
