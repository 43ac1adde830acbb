import { describe, expect, it } from 'vitest';
import { packF64, unpackF64 } from './poisson-math.js';
import { RateTable } from './poisson-rates.js';

describe('checkpoint packing of the poisson detector', () => {
  it('packs Float64 arrays exactly, and reads the plain arrays of older checkpoints', () => {
    const a = new Float64Array([0, 1 / 3, -2.5e-300, Number.MAX_VALUE, 1e-12, 42]);
    const packed = packF64(a.subarray(1, 5));
    expect(typeof packed).toBe('string');
    expect(Array.from(unpackF64(JSON.parse(JSON.stringify(packed)) as string))).toEqual(
      Array.from(a.subarray(1, 5)),
    );
    expect(Array.from(unpackF64([1.5, 2]))).toEqual([1.5, 2]);
  });

  it('a rate table restored from packed or from plain arrays computes the same rates', () => {
    const t = new RateTable(4);
    t.ensure(2);
    for (let b = 0; b < 48; b++) {
      t.addExposure(b % 3, b, 0.1 + b / 7);
      t.addEvents(b % 3, b, b % 5);
    }
    t.decay(0.98);
    const packed = t.save();
    const plain = {
      ...packed,
      ...Object.fromEntries(
        (['n', 'e', 'stationN', 'stationE', 'sysN', 'sysE'] as const).map((k) => [
          k,
          Array.from(unpackF64(packed[k])),
        ]),
      ),
    };
    const fromPacked = RateTable.restore(JSON.parse(JSON.stringify(packed)) as typeof packed);
    const fromPlain = RateTable.restore(plain);
    for (let i = 0; i < 3; i++)
      for (let b = 0; b < 48; b++) {
        expect(fromPacked.rate(i, b)).toBe(t.rate(i, b));
        expect(fromPlain.rate(i, b)).toBe(t.rate(i, b));
      }
  });
});
