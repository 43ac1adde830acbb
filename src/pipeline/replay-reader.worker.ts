/**
 * The replay's reader thread: decompresses, splits and JSON.parses the archive and normalises the
 * station_status documents (replayItems), then hands them to the pipeline thread in batches, the
 * status documents in the compact form of status-codec.ts. See replay-reader.ts for the protocol.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { emptyArchiveStats, type ArchiveError } from '../archive/index.js';
import { replayItems } from './replay-items.js';
import type { ReaderInit, ToPipeline, WireItem } from './replay-reader.js';
import { StatusEncoder } from './status-codec.js';

const port = parentPort;
if (port === null) throw new Error('replay-reader.worker must run in a worker thread');
const init = workerData as ReaderInit;

let credits = init.maxBatchesInFlight;
let wake: (() => void) | null = null;
port.on('message', (m: { type: 'ack' }) => {
  if (m.type !== 'ack') return;
  credits++;
  wake?.();
  wake = null;
});

const stats = emptyArchiveStats();
const encoder = new StatusEncoder();
let items: WireItem[] = [];
let errors: ArchiveError[] = [];

const send = (m: ToPipeline, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function flush(): Promise<void> {
  const { numbers, newKeys } = encoder.flush();
  send({ type: 'batch', items, numbers, newKeys, errors, stats: { ...stats } }, [
    numbers.buffer as ArrayBuffer,
  ]);
  items = [];
  errors = [];
  credits--;
  // Back-pressure: the pipeline acknowledges each batch it takes; never more than
  // maxBatchesInFlight waiting, whatever the speed difference of the two threads.
  while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
}

try {
  for await (const item of replayItems(init.paths, { stats, onError: (e) => errors.push(e) })) {
    if (item.feed !== 'station_status') items.push(item);
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
    if (items.length >= init.maxItemsPerBatch || encoder.pendingBytes >= init.maxBytesPerBatch) await flush();
  }
  if (items.length > 0 || errors.length > 0) await flush();
  send({ type: 'end', stats: { ...stats } });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  send({ type: 'error', message: e.message, stack: e.stack ?? null });
}
port.close();
