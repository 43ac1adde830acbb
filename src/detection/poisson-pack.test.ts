import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PackReader, PackWriter, toBase64InHeap } from './poisson-pack.js';

describe('poisson checkpoint packing', () => {
  it('writes the same base64 as Buffer.toString, also when built from pieces', () => {
    for (const n of [0, 1, 2, 599_999, 600_000, 600_001, 1_200_000, 1_800_002, 2_500_001]) {
      const bytes = randomBytes(n);
      expect(toBase64InHeap(bytes)).toBe(bytes.toString('base64'));
    }
  });

  it('reads back a checkpoint larger than one piece, array for array', () => {
    // Random doubles barely deflate: the pack is ~2.4 MB, several base64 pieces.
    const big = new Float64Array(randomBytes(300_000 * 8).buffer);
    const ints = Int32Array.from({ length: 1000 }, (_, i) => i * 7 - 3000);
    const w = new PackWriter();
    w.f64(big);
    w.i32(ints);
    w.json({ ids: ['a', 'b'] });
    const text = w.finish();
    expect(text.length).toBeGreaterThan(2_000_000);

    const r = new PackReader(text);
    expect(r.f64('big', big.length)).toEqual(big);
    expect(r.i32('ints', ints.length)).toEqual(ints);
    expect(r.json('ids')).toEqual({ ids: ['a', 'b'] });
    r.end();
  });
});
