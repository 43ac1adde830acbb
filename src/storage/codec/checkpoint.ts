/**
 * Detector checkpoints with binary parts (the `poisson` detector's packed tables, a Uint8Array):
 * split for storage into JSON text, where each Uint8Array is replaced by a reference
 * `{"$binary": [start, length]}`, and one byte string holding the binaries, which the stores keep
 * as binary (SQLite BLOB, PostgreSQL bytea, DynamoDB binary chunks). No base64 text of the bytes is
 * ever built: for a Vélib' `poisson` checkpoint that was a ~1.6 MB string, then a JSON text around
 * it, at every save, and the same again to restore.
 *
 * A checkpoint without binaries gives exactly `JSON.stringify(checkpoint)` and no bytes: JSON
 * checkpoints are stored as before, and stored ones are read as before.
 */

/** The key of a reference. A plain object with this key is refused next to binaries (ambiguous). */
export const BINARY_REF_KEY = '$binary';

export interface CheckpointParts {
  json: string;
  /** The binaries, one after the other; null when the checkpoint holds none. */
  binary: Uint8Array | null;
}

export function splitCheckpoint(consumer: string, checkpoint: unknown): CheckpointParts {
  const pieces: Uint8Array[] = [];
  let bytes = 0;
  let plainObjectWithRefKey = false;
  const refs = new WeakSet<object>();
  const ref = (b: Uint8Array): object => {
    pieces.push(b);
    const r = { [BINARY_REF_KEY]: [bytes, b.byteLength] };
    bytes += b.byteLength;
    refs.add(r);
    return r;
  };
  // A Buffer has a toJSON, which JSON.stringify calls before the replacer sees the value (an array
  // of every byte as a number: ~10 MB for a 1 MB pack): its holder swaps it for a reference first.
  const withoutBuffers = (value: object): object => {
    if (Array.isArray(value)) {
      const list = value as unknown[];
      if (!list.some((v) => Buffer.isBuffer(v))) return list;
      return list.map((v) => (Buffer.isBuffer(v) ? ref(v) : v));
    }
    let copy: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) if (Buffer.isBuffer(v)) (copy ??= { ...value })[k] = ref(v);
    return copy ?? value;
  };
  const json = JSON.stringify(
    checkpoint instanceof Uint8Array ? ref(checkpoint) : checkpoint,
    (_key, value: unknown): unknown => {
      if (value instanceof Uint8Array) return ref(value);
      if (value === null || typeof value !== 'object' || refs.has(value)) return value;
      if (!Array.isArray(value) && Object.hasOwn(value, BINARY_REF_KEY)) plainObjectWithRefKey = true;
      return withoutBuffers(value);
    },
  ) as string | undefined;
  if (json === undefined) throw new Error(`checkpoint of ${consumer} is not JSON-serialisable`);
  if (pieces.length === 0) return { json, binary: null };
  if (plainObjectWithRefKey)
    throw new Error(`checkpoint of ${consumer}: an object with key "${BINARY_REF_KEY}" next to binary data`);
  return { json, binary: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces) };
}

/** The checkpoint back, its binaries as Uint8Array views of `binary` (no copy). */
export function joinCheckpoint(json: string, binary: Uint8Array | null): unknown {
  if (binary === null) return JSON.parse(json) as unknown;
  return JSON.parse(json, (_key, value: unknown) => {
    const ref = referenceOf(value);
    if (ref === null) return value;
    const [start, length] = ref;
    if (start + length > binary.byteLength)
      throw new Error(
        `checkpoint: binary part [${start}, +${length}] beyond the ${binary.byteLength} bytes stored`,
      );
    return new Uint8Array(binary.buffer, binary.byteOffset + start, length);
  }) as unknown;
}

function referenceOf(value: unknown): [number, number] | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== BINARY_REF_KEY) return null;
  const ref = (value as Record<string, unknown>)[BINARY_REF_KEY];
  if (
    !Array.isArray(ref) ||
    ref.length !== 2 ||
    !ref.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
  )
    return null;
  return ref as [number, number];
}

/** A Buffer over the same memory (the drivers take Buffers; a copy of a checkpoint is avoidable). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
