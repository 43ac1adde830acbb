import { describe, expect, it } from 'vitest';
import { Rng, RngBank, hashString, seedToU32 } from './prng.js';

describe('prng', () => {
  it('is deterministic per seed and differs across seeds and streams', () => {
    const draw = (seed: number, stream: number) => {
      const bank = new RngBank(seed, 3);
      return Array.from({ length: 5 }, () => bank.uniform(stream));
    };
    expect(draw(7, 0)).toEqual(draw(7, 0));
    expect(draw(7, 0)).not.toEqual(draw(8, 0));
    expect(draw(7, 0)).not.toEqual(draw(7, 1));
  });

  it('keeps streams independent: drawing from one does not move another', () => {
    const a = new RngBank(42, 2);
    const b = new RngBank(42, 2);
    for (let i = 0; i < 100; i++) a.uniform(0);
    expect(a.uniform(1)).toBe(b.uniform(1));
  });

  it('gives uniforms in [0, 1) with the right mean', () => {
    const rng = new Rng(1);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
    }
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it.each([0.05, 0.8, 4, 50])('draws Poisson(%s) with mean and variance ≈ λ', (lambda) => {
    const bank = new RngBank(3, 1);
    const n = 50_000;
    let sum = 0;
    let sumSq = 0;
    let invalid = 0;
    for (let i = 0; i < n; i++) {
      const k = bank.poisson(0, lambda);
      if (!(Number.isInteger(k) && k >= 0)) invalid++;
      sum += k;
      sumSq += k * k;
    }
    expect(invalid).toBe(0);
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    expect(Math.abs(mean - lambda)).toBeLessThan(4 * Math.sqrt(lambda / n) + 0.01);
    expect(variance / lambda).toBeGreaterThan(0.9);
    expect(variance / lambda).toBeLessThan(1.1);
  });

  it('hashes text seeds (FNV-1a) and keeps integer seeds', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c); // published FNV-1a 32-bit test vector
    expect(seedToU32(12)).toBe(12);
    expect(seedToU32('12x')).toBe(hashString('12x'));
  });
});
