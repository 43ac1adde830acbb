import type { ByteReader, ByteWriter, StationIds } from '../codec/index.js';

/** Integers that print back as the same text, and stay exact doubled (2^52). */
const CANONICAL_INTEGER = /^(0|[1-9][0-9]{0,14})$/;

/**
 * Station keys of one packed item, numbered 1, 2, 3 … in the item itself. The SQL stores keep a
 * dictionary table instead; here each item carries its keys, so that an item read alone (from a
 * Query or from the table's stream) decodes without any other read. The packed codecs
 * (../codec/) write these small numbers where the SQL stores write dictionary ids.
 */
export class StationTable implements StationIds {
  readonly keys: string[] = [];
  private readonly ids = new Map<string, number>();

  /** Number of a key, added when new. */
  add(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      if (typeof key !== 'string' || key === '')
        throw new Error(`station id must be a non-empty string, got ${String(key)}`);
      this.keys.push(key);
      id = this.keys.length;
      this.ids.set(key, id);
    }
    return id;
  }

  stationId(_systemId: number, key: string): number {
    return this.add(key);
  }

  stationKey(id: number): string {
    const key = this.keys[id - 1];
    if (key === undefined) throw new Error(`packed item refers to station #${id}, not in its table`);
    return key;
  }

  /**
   * Each key as one varint v: a key that is a canonical decimal integer (Vélib' ids have up to 11
   * digits) as v = 2 × number + 1, ~5 bytes instead of 12; any other key as v = 2 × its UTF-8
   * length, then its bytes. Write units are paid per KB, and every item carries its table.
   */
  write(w: ByteWriter): void {
    w.uint(this.keys.length);
    for (const key of this.keys) {
      if (CANONICAL_INTEGER.test(key)) {
        w.uint(2 * Number(key) + 1);
      } else {
        const bytes = Buffer.from(key, 'utf8');
        w.uint(2 * bytes.length);
        for (const b of bytes) w.u8(b);
      }
    }
  }

  static read(r: ByteReader): StationTable {
    const t = new StationTable();
    for (let n = r.uint(); n > 0; n--) {
      const v = r.uint();
      let key: string;
      if (v % 2 === 1) {
        key = String((v - 1) / 2);
      } else {
        const bytes = Buffer.alloc(v / 2);
        for (let i = 0; i < bytes.length; i++) bytes[i] = r.u8();
        key = bytes.toString('utf8');
      }
      t.keys.push(key);
      t.ids.set(key, t.keys.length);
    }
    return t;
  }
}
