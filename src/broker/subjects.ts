import type { FeedEvent } from '../events/index.js';

/**
 * Subject layout of the event stream: `<prefix>.<system>.<partition>`.
 * - station events go to partition `p<hash32(station) mod N>` (stable across processes and
 *   versions: changing it would move stations between partitions);
 * - events without a station (snapshot, feed_gap, feed_resumed) go to `_system`.
 * A consumer of one system reads `<prefix>.<system>.>`: all its partitions and `_system` in stream
 * order, so it sees each document's station events before the `snapshot` that closes it. The
 * partitions let a future, finer split (several workers per very large system) filter by
 * `<prefix>.<system>.pK` + `_system` without re-publishing anything.
 */
export const SYSTEM_PARTITION = '_system';

/** NATS subject tokens may not contain '.', '*', '>' or white space; we allow a safe subset. */
const TOKEN = /^[A-Za-z0-9_-]{1,63}$/;

export class SubjectTokenError extends Error {
  override readonly name = 'SubjectTokenError';
}

export function checkToken(value: string, what: string): string {
  if (!TOKEN.test(value)) {
    throw new SubjectTokenError(
      `${what} ${JSON.stringify(value)} cannot be used in a NATS subject: use letters, digits, - or _ (max 63)`,
    );
  }
  return value;
}

/** FNV-1a, 32 bits (Fowler–Noll–Vo): cheap, no allocation, good enough spread for ids. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * FNV-1a followed by MurmurHash3's 32-bit finaliser (fmix32, Appleby): FNV alone spreads similar
 * short keys ("sys-1", "sys-2"…) poorly over a few buckets; the finaliser avalanches every bit.
 */
export function hash32(text: string): number {
  let h = fnv1a(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function stationPartition(stationId: string, partitions: number): string {
  return `p${hash32(stationId) % partitions}`;
}

export class EventSubjects {
  constructor(
    readonly prefix: string,
    readonly partitions: number,
  ) {
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
      throw new RangeError(`partitions must be a whole number in 1..1024, got ${partitions}`);
    }
  }

  /** Every event of the stream. */
  get all(): string {
    return `${this.prefix}.>`;
  }

  /** Every event of one system. */
  ofSystem(system: string): string {
    return `${this.prefix}.${system}.>`;
  }

  of(event: FeedEvent): string {
    const part = 'stationId' in event ? stationPartition(event.stationId, this.partitions) : SYSTEM_PARTITION;
    return `${this.prefix}.${event.system}.${part}`;
  }
}

/** Consumer names ("activity:velib") as one subject token: anything outside [A-Za-z0-9_:-] as %XX. */
export function consumerToken(name: string): string {
  let out = '';
  for (const ch of name) {
    out += /[A-Za-z0-9_:-]/.test(ch) ? ch : `%${ch.codePointAt(0)!.toString(16).toUpperCase()}`;
  }
  return out === '' ? '%' : out;
}
