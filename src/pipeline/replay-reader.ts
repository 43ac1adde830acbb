import { Worker } from 'node:worker_threads';
import { emptyArchiveStats, type ArchiveError, type ArchiveStats } from '../archive/index.js';
import type { Rejection } from '../feed/model.js';
import { replayItems, type ReplayItem } from './replay-items.js';
import { StatusDecoder, type EncodedStatus } from './status-codec.js';

export interface ReplayReaderOptions {
  /** Filled in while reading, as readArchive does (totalBytes, lines, badLines, …). */
  stats?: ArchiveStats;
  onError?: (error: ArchiveError) => void;
  /**
   * Read, decompress, parse and normalise in a worker thread (default), so that this thread only
   * runs the pipeline. false: everything here, on one core.
   */
  thread?: boolean;
}

/** Sent to the worker at start. */
export interface ReaderInit {
  paths: string[];
  maxBatchesInFlight: number;
  maxItemsPerBatch: number;
  maxBytesPerBatch: number;
}

/** An item as it crosses threads: status documents encoded, everything else as is. */
export type WireItem =
  | Exclude<ReplayItem, { feed: 'station_status' }>
  | {
      feed: 'station_status';
      timeSec: number;
      bytes: number;
      status: { ok: false; rejection: Rejection };
    }
  | {
      feed: 'station_status';
      timeSec: number;
      bytes: number;
      encoded: EncodedStatus;
      rejections: Rejection[];
    };

export type ToPipeline =
  | {
      type: 'batch';
      items: WireItem[];
      numbers: Float64Array;
      newKeys: string[];
      errors: ArchiveError[];
      stats: ArchiveStats;
    }
  | { type: 'end'; stats: ArchiveStats }
  | { type: 'error'; message: string; stack: string | null };

/**
 * Batches in flight between the threads: enough that the pipeline never waits for the reader
 * while it is ahead, few enough that the memory they hold stays small (a batch is ~0.3 MB).
 */
const MAX_BATCHES_IN_FLIGHT = 4;
const MAX_ITEMS_PER_BATCH = 16;
const MAX_BYTES_PER_BATCH = 256 * 1024;

/**
 * The replay's documents, in document-time order (see replayItems). By default the reading runs on
 * a second thread: decompression, line splitting, JSON.parse and normalisation are most of a
 * replay's work and independent of the pipeline, so on a machine with two cores the two halves
 * run side by side. The status documents cross in a compact form (status-codec.ts), the rest by
 * structured clone; the reader stops when MAX_BATCHES_IN_FLIGHT batches are not yet taken.
 *
 * Errors: a missing path or unreadable directory rejects the first `next()` with the same message
 * as readArchive; a damaged file or line goes to `onError` and reading goes on.
 */
export async function* readReplayItems(
  paths: string[],
  opts: ReplayReaderOptions = {},
): AsyncGenerator<ReplayItem> {
  if (opts.thread === false) {
    yield* replayItems(paths, opts);
    return;
  }
  const stats = opts.stats ?? emptyArchiveStats();
  const onError = opts.onError ?? (() => {});
  const init: ReaderInit = {
    paths,
    maxBatchesInFlight: MAX_BATCHES_IN_FLIGHT,
    maxItemsPerBatch: MAX_ITEMS_PER_BATCH,
    maxBytesPerBatch: MAX_BYTES_PER_BATCH,
  };
  const worker = startWorker(init);
  const inbox: ToPipeline[] = [];
  let waiting: (() => void) | null = null;
  // Set by the worker's events (closures): an object, so that TypeScript does not narrow them.
  const ended: { failure: Error | null; exited: boolean } = { failure: null, exited: false };
  const wakeUp = (): void => {
    waiting?.();
    waiting = null;
  };
  worker.on('message', (m: ToPipeline) => {
    inbox.push(m);
    wakeUp();
  });
  worker.on('error', (err: Error & { code?: string }) => {
    ended.failure ??=
      err.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new Error(
            `the replay's reader thread ran out of its ${READER_RESOURCE_LIMITS.maxOldGenerationSizeMb} MB heap ` +
              '(a document line of tens of MB?): run the replay again with --no-reader-thread',
          )
        : err;
    wakeUp();
  });
  worker.on('exit', (code) => {
    ended.exited = true;
    if (code !== 0) ended.failure ??= new Error(`replay reader thread stopped with exit code ${code}`);
    wakeUp();
  });

  const decoder = new StatusDecoder();
  try {
    for (;;) {
      const m = inbox.shift();
      if (m === undefined) {
        if (ended.failure !== null) throw ended.failure;
        if (ended.exited) throw new Error('replay reader thread ended without finishing the archive');
        await new Promise<void>((resolve) => (waiting = resolve));
        continue;
      }
      if (m.type === 'error') {
        const err = new Error(m.message);
        if (m.stack !== null) err.stack = m.stack;
        throw err;
      }
      Object.assign(stats, m.stats);
      if (m.type === 'end') return;
      // Taken: the reader may prepare another batch while this one runs through the pipeline.
      worker.postMessage({ type: 'ack' });
      for (const e of m.errors) onError(e);
      decoder.addKeys(m.newKeys);
      for (const it of m.items) {
        if (!('encoded' in it)) yield it;
        else {
          const doc = decoder.decode(m.numbers, it.encoded);
          yield {
            feed: 'station_status',
            timeSec: it.timeSec,
            bytes: it.bytes,
            status: { ok: true, doc, rejections: it.rejections },
          };
        }
      }
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * The reader's heap: a small young generation (its objects live one line) and a bounded old one
 * (it keeps a string table and a few lines), so that its garbage is collected before the process
 * grows: left alone, V8 lets each isolate's young generation grow to 2 × 16 MB. Measured on the
 * Bay Wheels replay: 8 MB young → ~205 MB peak RSS, 6 MB → ~190 MB, for a few % more reader CPU.
 * A line of tens of MB still fits in the old generation.
 */
const READER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 48 };

/**
 * From dist/ the worker is the compiled .js next to this file. From the TypeScript sources (tests,
 * tsx) it is the .ts file, loaded through tsx's loader registered inside the worker.
 */
function startWorker(init: ReaderInit): Worker {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const file = new URL(`./replay-reader.worker.${fromSource ? 'ts' : 'js'}`, here);
  const resourceLimits = READER_RESOURCE_LIMITS;
  if (!fromSource) return new Worker(file, { workerData: init, resourceLimits });
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(boot, { eval: true, workerData: init, resourceLimits });
}

export type { ReplayItem } from './replay-items.js';
