/**
 * Binary columns for the `poisson` detector's checkpoint (version 3): each typed array is written as
 * its own bytes (exact, little-endian as on every host Node runs on here), deflated one by one
 * (zlib level 1: the rate tables are mostly exponents and zeros: 7 MB of doubles → ~2 MB for 1,495
 * Vélib' stations), and the pieces are joined in one base64 string, since the stores keep
 * checkpoints as JSON text. Deflating each array from a view of its own memory means that no copy
 * of the whole raw state is ever built, and no number is formatted as text.
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

  finish(): string {
    return toBase64InHeap(Buffer.concat(this.parts));
  }
}

/**
 * Input bytes per base64 piece: a multiple of 3 (pieces join without padding) whose 800,000
 * characters stay under the ~1 MB above which Node returns an *external* string (malloc'd,
 * outside the V8 heap). An external string is freed only when V8 happens to collect it: during a
 * replay, checkpoint after checkpoint piled up 15–40 MB of them (docs/performance.md §2); strings
 * in the heap count towards the next collection like any other garbage.
 */
const BASE64_PIECE_BYTES = 600_000;

/** `bytes.toString('base64')`, built from pieces that are ordinary heap strings. */
export function toBase64InHeap(bytes: Buffer): string {
  if (bytes.length <= BASE64_PIECE_BYTES) return bytes.toString('base64');
  const pieces: string[] = [];
  for (let at = 0; at < bytes.length; at += BASE64_PIECE_BYTES)
    pieces.push(bytes.toString('base64', at, Math.min(at + BASE64_PIECE_BYTES, bytes.length)));
  return pieces.join('');
}

export class PackReader {
  private readonly buf: Buffer;
  private pos = 0;

  constructor(base64: string) {
    this.buf = Buffer.from(base64, 'base64');
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
