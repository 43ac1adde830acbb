import { eventKey } from '../events/index.js';
import type { InformationDocument, StatusDocument } from '../feed/model.js';
import type { Logger } from '../log/index.js';
import { Producer } from '../pipeline/index.js';
import type { Store } from '../storage/index.js';
import type { JetStreamLog } from './event-log.js';
import { brokerMetrics } from './metrics.js';
import { publishingStore, type PublishingStore } from './publishing-store.js';
import type { SnapshotLog } from './snapshots.js';

export interface SystemCollectorOptions {
  store: Store;
  log: JetStreamLog;
  snapshots: SnapshotLog;
  system: string;
  gapThresholdSec: number;
  /** Documents held in memory while NATS (or the store) is unreachable; the oldest go first. */
  maxBufferedDocuments: number;
  logger: Logger;
  /** First retry delay; doubles up to 10 s. */
  retryDelayMs?: number;
}

type Item =
  | { kind: 'status'; doc: StatusDocument; rejected: string[]; onPublished?: () => void }
  | { kind: 'info'; doc: InformationDocument };

const MAX_RETRY_DELAY_MS = 10_000;
/** Events published at most this long before their raw document's server timestamp is read back. */
const RECOVERY_MARGIN_MS = 60_000;

/**
 * One system's collector: documents from the feed watcher go through a bounded in-memory queue,
 * in order, into (1) the snapshots stream, (2) the producer's diff, whose events go to the event
 * stream, (3) the diff state in the Store. When NATS or the Store fails, the document stays queued
 * and is retried with back-off; the log says so once when it starts and once when it ends.
 */
export class SystemCollector {
  private readonly queue: Item[] = [];
  private readonly store: PublishingStore;
  private readonly log: Logger;
  private producer: Producer | null = null;
  private draining: Promise<void> | null = null;
  private failures = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  private idle: (() => void)[] = [];

  constructor(private readonly opts: SystemCollectorOptions) {
    this.store = publishingStore(opts.store, opts.log);
    this.log = opts.logger.child({ system: opts.system });
  }

  /** Time of the newest document whose events and diff state are committed; null before the first. */
  get committedDocumentSec(): number | null {
    return this.producer?.lastDocumentSec ?? null;
  }

  get buffered(): number {
    return this.queue.length;
  }

  /** `onPublished`: called once the document is in JetStream and its diff state in the Store. */
  enqueueStatus(doc: StatusDocument, rejectedStationIds: string[] = [], onPublished?: () => void): void {
    this.enqueue({
      kind: 'status',
      doc,
      rejected: rejectedStationIds,
      ...(onPublished ? { onPublished } : {}),
    });
  }

  enqueueInformation(doc: InformationDocument): void {
    this.enqueue({ kind: 'info', doc });
  }

  /** Resolves when everything queued so far is published (tests, clean stop). */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.draining === null) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops retrying; what is still queued is lost with the process (the log says how much). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.draining;
    if (this.queue.length > 0)
      this.log.warn({ buffered: this.queue.length }, 'stopping with documents not yet published');
  }

  private enqueue(item: Item): void {
    if (this.stopped) return;
    // Never drop the head while it is being published (the drain loop removes it when done).
    const from = this.draining === null ? 0 : 1;
    if (this.queue.length >= this.opts.maxBufferedDocuments && this.queue.length > from) {
      // Keep the newest: the diff of the next kept document covers the dropped ones' net change,
      // and a silence longer than the gap threshold is marked feed_gap (blind, not inactive).
      let i = from;
      while (i < this.queue.length - 1 && this.queue[i]!.kind !== 'status') i++;
      const dropped = this.queue.splice(i, 1)[0]!;
      brokerMetrics.droppedDocuments.inc({ system: this.opts.system });
      this.log.warn(
        { droppedDocumentSec: dropped.doc.lastUpdatedSec, buffered: this.queue.length },
        'collector buffer full: dropped the oldest buffered document',
      );
    }
    this.queue.push(item);
    brokerMetrics.bufferedDocuments.set({ system: this.opts.system }, this.queue.length);
    this.kick();
  }

  private kick(): void {
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
      // Something queued between the loop's last check and here: go on.
      if (this.queue.length > 0 && !this.stopped) this.kick();
      else for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const item = this.queue[0]!;
      try {
        await this.handle(item);
        if (this.queue[0] === item) this.queue.shift();
        brokerMetrics.bufferedDocuments.set({ system: this.opts.system }, this.queue.length);
        if (this.failures > 0) {
          this.log.info(
            { attempts: this.failures, buffered: this.queue.length },
            'publishing again: draining the buffered documents',
          );
          this.failures = 0;
        }
      } catch (err) {
        this.failures++;
        // Memory may be ahead of or behind what was published: rebuild from the Store and JetStream.
        this.producer = null;
        brokerMetrics.publishFailures.inc({ system: this.opts.system });
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.log.warn(
            {
              err: err instanceof Error ? err.message : String(err),
              attempts: this.failures,
              buffered: this.queue.length,
            },
            'cannot publish to NATS or save to the store: buffering documents in memory and retrying',
          );
        }
        await this.sleep(
          Math.min((this.opts.retryDelayMs ?? 500) * 2 ** (this.failures - 1), MAX_RETRY_DELAY_MS),
        );
      }
    }
  }

  private async handle(item: Item): Promise<void> {
    const producer = await this.openProducer();
    if (item.kind === 'info') {
      await producer.ingestInformation(item.doc);
      return;
    }
    if (producer.lastDocumentSec === null || item.doc.lastUpdatedSec > producer.lastDocumentSec) {
      await this.opts.snapshots.publish(this.opts.system, item.doc, item.rejected);
      await producer.ingestStatus(item.doc, item.rejected.length > 0 ? new Set(item.rejected) : undefined);
      brokerMetrics.publishedDocuments.inc({ system: this.opts.system });
      brokerMetrics.publishedDocumentTime.set({ system: this.opts.system }, item.doc.lastUpdatedSec);
    }
    item.onPublished?.();
  }

  private async openProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = new Producer(this.store, this.opts.system, {
      gapThresholdSec: this.opts.gapThresholdSec,
    });
    await producer.init();
    await this.recover(producer);
    this.producer = producer;
    return producer;
  }

  /**
   * A document in the snapshots stream newer than the saved diff state was half done when the
   * collector (or its store write) failed: some of its events may be in the stream. Diff it again
   * against the same saved state (deterministic: same events), publish only the events not found
   * in the stream, and save the state. Does not rely on the duplicate window, so a collector down
   * for days still doubles nothing.
   */
  private async recover(producer: Producer): Promise<void> {
    const last = await this.opts.snapshots.last(this.opts.system);
    if (last === null) return;
    const timeSec = last.doc.lastUpdatedSec;
    if (producer.lastDocumentSec !== null && timeSec <= producer.lastDocumentSec) return;
    const already = await this.opts.log.readSystemSince(
      this.opts.system,
      new Date(last.storedAtMs - RECOVERY_MARGIN_MS),
    );
    const keys = new Set<string>();
    for (const e of already) if (e.timeSec === timeSec) keys.add(eventKey(e));
    this.store.skipKeys = keys;
    try {
      const logged = await producer.ingestStatus(
        last.doc,
        last.rejectedStationIds.length > 0 ? new Set(last.rejectedStationIds) : undefined,
      );
      brokerMetrics.recoveredDocuments.inc({ system: this.opts.system });
      this.log.info(
        { documentSec: timeSec, alreadyPublished: keys.size, published: logged.length },
        'finished a document half-published before a crash',
      );
    } finally {
      this.store.skipKeys = null;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
