/**
 * The replay's reader thread: decompresses, splits and JSON.parses the archive and normalises the
 * station_status documents (replayItems), then hands them to the pipeline thread in batches, the
 * status documents in the compact form of status-codec.ts. See replay-reader.ts for the protocol.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { emptyArchiveStats, type ArchiveError } from '../archive/index.js';
import { replayItems } from './replay-items.js';
import type { Ack, ReaderInit, ToPipeline, WireItem } from './replay-reader.js';
import { StatusEncoder } from './status-codec.js';

const port = parentPort;
if (port === null) throw new Error('replay-reader.worker must run in a worker thread');
const init = workerData as ReaderInit;

let credits = init.maxBatchesInFlight;
let wake: (() => void) | null = null;
/**
 * Buffers for raw lines, back from the pipeline once it has parsed them: reused rather than a
 * fresh 200 kB allocation per line, which glibc kept around (+6 MB peak RSS over a replay).
 */
const spareBuffers: ArrayBuffer[] = [];
const MAX_SPARE_BUFFERS = 16;
const rawBuffer = (bytes: number): Buffer => {
  const i = spareBuffers.findIndex((b) => b.byteLength >= bytes);
  // A quarter more than asked: the next lines are a little longer or shorter.
  const ab = i === -1 ? new ArrayBuffer(Math.ceil(bytes * 1.25)) : spareBuffers.splice(i, 1)[0]!;
  return Buffer.from(ab);
};
port.on('message', (m: Ack) => {
  if (m.type !== 'ack') return;
  for (const b of m.buffers) if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(b);
  credits++;
  wake?.();
  wake = null;
});

const stats = emptyArchiveStats();
const encoder = new StatusEncoder();
let items: WireItem[] = [];
let errors: ArchiveError[] = [];
/** For each error, how many items of the batch came before it (the pipeline keeps the order). */
let errorsAt: number[] = [];
/** Bytes of the raw lines in the batch being built. */
let rawBytes = 0;
let rawBuffers: ArrayBuffer[] = [];

const send = (m: ToPipeline, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function flush(): Promise<void> {
  const { numbers, newKeys } = encoder.flush();
  send({ type: 'batch', items, numbers, newKeys, errors, errorsAt, stats: { ...stats } }, [
    numbers.buffer as ArrayBuffer,
    ...rawBuffers,
  ]);
  rawBuffers = [];
  items = [];
  errors = [];
  errorsAt = [];
  rawBytes = 0;
  credits--;
  // Back-pressure: the pipeline acknowledges each batch it takes; never more than
  // maxBatchesInFlight waiting, whatever the speed difference of the two threads.
  while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
}

try {
  const onError = (e: ArchiveError): void => {
    errors.push(e);
    errorsAt.push(items.length);
  };
  // Work sharing: when the pipeline has taken every batch sent, it is about to wait for this
  // thread; then the next status lines go unparsed, for it to parse (the costliest step here).
  const rawStatus = (): boolean => credits >= init.rawWhenCredits;
  for await (const item of replayItems(init.paths, { stats, onError, rawStatus, rawBuffer })) {
    if ('raw' in item) {
      items.push(item);
      // The line's own buffer (from rawBuffer): transferred, not copied; the pipeline sends it back.
      rawBuffers.push(item.raw.text.buffer as ArrayBuffer);
      rawBytes += item.raw.text.length;
    } else if (item.feed !== 'station_status') items.push(item);
    else if (!item.status.ok) items.push({ ...item, status: item.status });
    else {
      const { doc, rejections } = item.status;
      items.push({
        feed: item.feed,
        timeSec: item.timeSec,
        bytes: item.bytes,
        encoded: encoder.encode(doc),
        rejections,
      });
    }
    if (items.length >= init.maxItemsPerBatch || encoder.pendingBytes + rawBytes >= init.maxBytesPerBatch)
      await flush();
  }
  if (items.length > 0 || errors.length > 0) await flush();
  send({ type: 'end', stats: { ...stats } });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  send({ type: 'error', message: e.message, stack: e.stack ?? null });
}
port.close();
