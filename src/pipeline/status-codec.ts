import type { StationStatus, StatusDocument } from '../feed/model.js';

/**
 * A compact form of normalised station_status documents, to hand them from the replay's reader
 * thread to the pipeline: numbers in one Float64Array per batch (transferred, not copied), station
 * ids and codes as indexes into a string table that grows on both sides. Structured-cloning the
 * objects themselves would cost the main thread about as much as the JSON.parse it is spared.
 *
 * Per station, FIELDS numbers: id key, code key + 1 (0 = null), mechanical, electric, other,
 * disabled bikes, docks available, disabled docks, flags (1 installed, 2 renting, 4 returning),
 * last_reported (NaN = null; the parser never yields NaN for a time).
 */
const FIELDS = 10;
const INSTALLED = 1;
const RENTING = 2;
const RETURNING = 4;
const INITIAL_CAPACITY = 1 << 16;

/** One encoded document: where its stations are in the batch's numbers. */
export interface EncodedStatus {
  lastUpdatedSec: number;
  ttlSec: number | null;
  version: string | null;
  /** Index of the first number of the document's first station. */
  at: number;
  stations: number;
}

/** What the encoder hands over at each flush: numbers (transfer their buffer) and new strings. */
export interface EncodedBatch {
  numbers: Float64Array;
  /** Strings first seen in this batch, in key order: append them to the decoder's table first. */
  newKeys: string[];
}

export class StatusEncoder {
  private readonly keys = new Map<string, number>();
  private newKeys: string[] = [];
  private numbers = new Float64Array(INITIAL_CAPACITY);
  private length = 0;

  encode(doc: StatusDocument): EncodedStatus {
    const stations = doc.stations;
    this.reserve(stations.length * FIELDS);
    const at = this.length;
    const a = this.numbers;
    let i = at;
    for (const s of stations) {
      a[i] = this.key(s.stationId);
      a[i + 1] = s.code === null ? 0 : this.key(s.code) + 1;
      a[i + 2] = s.bikes.mechanical;
      a[i + 3] = s.bikes.electric;
      a[i + 4] = s.bikes.other;
      a[i + 5] = s.bikesDisabled;
      a[i + 6] = s.docksAvailable;
      a[i + 7] = s.docksDisabled;
      a[i + 8] =
        (s.isInstalled ? INSTALLED : 0) | (s.isRenting ? RENTING : 0) | (s.isReturning ? RETURNING : 0);
      a[i + 9] = s.lastReportedSec ?? Number.NaN;
      i += FIELDS;
    }
    this.length = i;
    return {
      lastUpdatedSec: doc.lastUpdatedSec,
      ttlSec: doc.ttlSec,
      version: doc.version,
      at,
      stations: stations.length,
    };
  }

  /** Bytes encoded since the last flush. */
  get pendingBytes(): number {
    return this.length * Float64Array.BYTES_PER_ELEMENT;
  }

  /** The numbers and strings of the documents encoded since the last flush; starts a new batch. */
  flush(): EncodedBatch {
    // A fresh buffer per batch: the old one is transferred to the other thread.
    const numbers = this.numbers.slice(0, this.length);
    const newKeys = this.newKeys;
    this.newKeys = [];
    this.length = 0;
    return { numbers, newKeys };
  }

  private key(s: string): number {
    let k = this.keys.get(s);
    if (k === undefined) {
      k = this.keys.size;
      this.keys.set(s, k);
      this.newKeys.push(s);
    }
    return k;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.numbers.length) return;
    let size = this.numbers.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Float64Array(size);
    grown.set(this.numbers.subarray(0, this.length));
    this.numbers = grown;
  }
}

export class StatusDecoder {
  private readonly keys: string[] = [];

  /** Learn the strings of a batch before decoding its documents. */
  addKeys(newKeys: readonly string[]): void {
    for (const k of newKeys) this.keys.push(k);
  }

  decode(numbers: Float64Array, e: EncodedStatus): StatusDocument {
    const stations: StationStatus[] = new Array<StationStatus>(e.stations);
    let i = e.at;
    for (let n = 0; n < e.stations; n++) {
      const code = numbers[i + 1]!;
      const flags = numbers[i + 8]!;
      const reported = numbers[i + 9]!;
      // Same property order as the parser builds: one hidden class for both.
      stations[n] = {
        stationId: this.keyAt(numbers[i]!),
        code: code === 0 ? null : this.keyAt(code - 1),
        bikes: { mechanical: numbers[i + 2]!, electric: numbers[i + 3]!, other: numbers[i + 4]! },
        bikesDisabled: numbers[i + 5]!,
        docksAvailable: numbers[i + 6]!,
        docksDisabled: numbers[i + 7]!,
        isInstalled: (flags & INSTALLED) !== 0,
        isRenting: (flags & RENTING) !== 0,
        isReturning: (flags & RETURNING) !== 0,
        lastReportedSec: reported === reported ? reported : null,
      };
      i += FIELDS;
    }
    return { lastUpdatedSec: e.lastUpdatedSec, ttlSec: e.ttlSec, version: e.version, stations };
  }

  private keyAt(k: number): string {
    const s = this.keys[k];
    if (s === undefined)
      throw new Error(`status codec: unknown string key ${k} (batches decoded out of order?)`);
    return s;
  }
}
