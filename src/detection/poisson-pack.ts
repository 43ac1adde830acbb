/**
 * Binary columns for the `poisson` detector's checkpoint (version 3): each typed array is written as
 * its own bytes (exact, little-endian as on every host Node runs on here), deflated one by one
 * (zlib level 1: the rate tables are mostly exponents and zeros: 7 MB of doubles → ~2 MB for 1,495
 * Vélib' stations), and the pieces are joined in one byte string, which the stores keep as binary
 * (storage/codec/checkpoint.ts). Deflating each array from a view of its own memory means that no
 * copy of the whole raw state is ever built, and no number is formatted as text. Checkpoints saved
 * before the stores kept binaries hold the same bytes as a base64 string: read too.
 *
 * Layout: repeated [uint32 LE length][deflate-raw bytes], read back in the order written.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export class PackWriter {
  private readonly parts: Buffer[] = [];

  private bytes(view: Uint8Array): void {
    const z = deflateRawSync(view, { level: 1 });
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(z.length, 0);
    this.parts.push(head, z);
  }

  f64(a: Float64Array): void {
    this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  i32(a: Int32Array): void {
    this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  u8(a: Uint8Array): void {
    this.bytes(a);
  }

  /** Small structured data (station ids, state names). */
  json(value: unknown): void {
    this.bytes(Buffer.from(JSON.stringify(value)));
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class PackReader {
  private readonly buf: Buffer;
  private pos = 0;

  /** The pack's bytes, or their base64 text (as checkpoints were saved before binary storage). */
  constructor(packed: Uint8Array | string) {
    this.buf =
      typeof packed === 'string'
        ? Buffer.from(packed, 'base64')
        : Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  }

  private next(what: string): Buffer {
    if (this.pos + 4 > this.buf.length) throw new Error(`poisson checkpoint: truncated before ${what}`);
    const len = this.buf.readUInt32LE(this.pos);
    const end = this.pos + 4 + len;
    if (end > this.buf.length) throw new Error(`poisson checkpoint: truncated in ${what}`);
    const out = inflateRawSync(this.buf.subarray(this.pos + 4, end));
    this.pos = end;
    return out;
  }

  /** The next array; `length` is checked when given (a corrupt checkpoint fails here, not later). */
  f64(what: string, length?: number): Float64Array {
    const b = this.next(what);
    const out = new Float64Array(wholeValues(b, 8, what));
    new Uint8Array(out.buffer).set(b);
    return checkLength(out, what, length);
  }

  i32(what: string, length?: number): Int32Array {
    const b = this.next(what);
    const out = new Int32Array(wholeValues(b, 4, what));
    new Uint8Array(out.buffer).set(b);
    return checkLength(out, what, length);
  }

  u8(what: string, length?: number): Uint8Array {
    return checkLength(new Uint8Array(this.next(what)), what, length);
  }

  json(what: string): unknown {
    return JSON.parse(this.next(what).toString('utf8')) as unknown;
  }

  /** Every part was read: a checkpoint of another layout is refused, not half-read. */
  end(): void {
    if (this.pos !== this.buf.length) throw new Error('poisson checkpoint: unexpected trailing data');
  }
}

function wholeValues(b: Buffer, size: number, what: string): number {
  if (b.length % size !== 0) throw new Error(`poisson checkpoint: ${what} is not a whole number of values`);
  return b.length / size;
}

function checkLength<A extends { length: number }>(a: A, what: string, length: number | undefined): A {
  if (length !== undefined && a.length !== length)
    throw new Error(`poisson checkpoint: ${what} has ${a.length} values, expected ${length}`);
  return a;
}
