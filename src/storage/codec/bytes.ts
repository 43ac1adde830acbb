/**
 * Variable-length integers for the packed event batches (the LEB128 / protobuf varint idea:
 * 7 bits a byte, high bit = more). Small counts take one byte, station ids two.
 * Signed values are zigzag-mapped (0, -1, 1, -2 … → 0, 1, 2, 3 …); arithmetic instead of bit
 * operations above 2^28 keeps 53-bit integers exact.
 */
export class ByteWriter {
  buf: Buffer = Buffer.allocUnsafe(1 << 16);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** A non-negative safe integer. */
  uint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    if (v < 0x80) {
      buf[this.pos++] = v;
      return;
    }
    while (v >= 0x10000000) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  int(v: number): void {
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** 0 = null, else zigzag + 1. */
  nullableInt(v: number | null): void {
    this.uint(v === null ? 0 : (v >= 0 ? v * 2 : -v * 2 - 1) + 1);
  }

  /** 0 = null, else UTF-8 byte length + 1, then the bytes. */
  nullableString(s: string | null): void {
    if (s === null) {
      this.uint(0);
      return;
    }
    // Station codes are short ASCII: copy the chars, no Buffer.write call (~10× slower for 5 chars).
    const len = s.length;
    if (len < 127) {
      this.ensure(len + 1);
      const buf = this.buf;
      const start = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === len) {
        buf[start] = len + 1;
        this.pos = start + 1 + len;
        return;
      }
    }
    const n = Buffer.byteLength(s);
    this.uint(n + 1);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A view of the bytes written since the last reset (valid until the next write). */
  view(from = 0): Buffer {
    return this.buf.subarray(from, this.pos);
  }
}

export class ByteReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new Error('packed events: unexpected end of batch');
    return this.buf[this.pos++]!;
  }

  uint(): number {
    let b = this.u8();
    if (b < 0x80) return b;
    let v = b & 0x7f;
    let scale = 0x80;
    do {
      b = this.u8();
      v += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b >= 0x80);
    return v;
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  nullableInt(): number | null {
    const z = this.uint();
    if (z === 0) return null;
    return (z - 1) % 2 === 0 ? (z - 1) / 2 : -z / 2;
  }

  nullableString(): string | null {
    const n = this.uint();
    if (n === 0) return null;
    const end = this.pos + n - 1;
    if (end > this.buf.length) throw new Error('packed events: string runs past the end of the batch');
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n - 1).toString('utf8');
    this.pos = end;
    return s;
  }
}
