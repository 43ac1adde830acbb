import { describe, expect, it } from 'vitest';
import { SilenceTest } from './poisson-silence.js';

describe('SilenceTest', () => {
  it('raises exactly when P(silence) falls below p, at κ0 for a well-learned rate', () => {
    const t = new SilenceTest(5e-5, 10, true);
    // (1 + Λ/10)^−10 = 5e-5 ⇔ Λ = 10 (5e-5^−0.1 − 1) ≈ 16.9
    expect(t.minLambda).toBeCloseTo(10 * (Math.pow(5e-5, -0.1) - 1), 10);
    expect(t.pValue(t.minLambda, 1e12)).toBeCloseTo(5e-5, 10);
    expect(t.passes(t.minLambda * 0.999, 1e12)).toBe(false);
    expect(t.passes(t.minLambda * 1.001, 1e12)).toBe(true);
  });

  it('asks a longer silence of a rate learned from few events (1/κ = 1/κ0 + 1/a)', () => {
    const t = new SilenceTest(5e-5, 10, true);
    expect(t.kappa(40)).toBeCloseTo(1 / (1 / 10 + 1 / 40), 12);
    expect(t.threshold(40)).toBeGreaterThan(t.threshold(400));
    expect(t.threshold(400)).toBeGreaterThan(t.minLambda);
    const lambda = (t.threshold(40) + t.threshold(400)) / 2;
    expect([t.passes(lambda, 400), t.passes(lambda, 40)]).toEqual([true, false]);
    // Without rate uncertainty, or before anything is learned: κ0.
    expect(new SilenceTest(5e-5, 10, false).kappa(40)).toBe(10);
    expect(t.kappa(0)).toBe(10);
  });

  it('never passes when switched off (p = 0)', () => {
    const off = new SilenceTest(0, 10, true);
    expect(off.minLambda).toBe(Number.POSITIVE_INFINITY);
    expect(off.passes(1e9, 100)).toBe(false);
  });
});
