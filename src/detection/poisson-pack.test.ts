import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PackReader, PackWriter } from './poisson-pack.js';

describe('poisson checkpoint packing', () => {
  it('reads back a large checkpoint array for array, from its bytes or from their base64', () => {
    // Random doubles barely deflate: the pack is ~2.4 MB.
    const big = new Float64Array(randomBytes(300_000 * 8).buffer);
    const ints = Int32Array.from({ length: 1000 }, (_, i) => i * 7 - 3000);
    const w = new PackWriter();
    w.f64(big);
    w.i32(ints);
    w.json({ ids: ['a', 'b'] });
    const bytes = w.finish();
    expect(bytes.length).toBeGreaterThan(2_000_000);

    // Checkpoints saved before the stores kept binaries hold the base64 text of the same bytes.
    for (const packed of [bytes, new Uint8Array(bytes), bytes.toString('base64')]) {
      const r = new PackReader(packed);
      // Compared as bytes: toEqual over 300,000 values takes seconds.
      expect(Buffer.from(r.f64('big', big.length).buffer).equals(Buffer.from(big.buffer))).toBe(true);
      expect(r.i32('ints', ints.length)).toEqual(ints);
      expect(r.json('ids')).toEqual({ ids: ['a', 'b'] });
      r.end();
    }
  });
});
