import type { Logger } from '../log/index.js';
import type { LoggedEvent } from '../events/types.js';
import { metrics } from '../metrics/index.js';
import { Pipeline } from '../pipeline/index.js';
import type { EventLog, Store } from '../storage/index.js';
import type { JetStreamLog, SystemEventLog } from './event-log.js';
import { withEventLog } from './log-store.js';
import { brokerMetrics } from './metrics.js';

export interface SystemRunnerOptions {
  store: Store;
  log: JetStreamLog;
  system: string;
  timeZone: string;
  detector: string;
  minHistoryDays: number;
  checkpointEverySnapshots?: number;
  detectorOptions?: Record<string, unknown>;
  logger: Logger;
}

/**
 * One system's consumers (activity, detection) in a `process` worker, reading the system's
 * JetStream subjects. It reuses the embedded Pipeline with the Store's log swapped for the
 * JetStream view: offsets, effects and checkpoints stay in the Store (one transaction each), so a
 * worker killed at any point, or a lease moved to another worker, re-does the same work from the
 * committed offsets and writes nothing twice.
 */
export class SystemRunner {
  /** Events of the batch being processed (read, not yet committed by both consumers). */
  private uncommitted = 0;
  private closed = false;

  private constructor(
    readonly system: string,
    private readonly pipeline: Pipeline,
    private readonly view: SystemEventLog,
  ) {}

  static async open(opts: SystemRunnerOptions): Promise<SystemRunner> {
    const view = opts.log.forSystem(opts.system, opts.store.log);
    try {
      const pipeline = await Pipeline.open({
        // The pipeline reads the log itself only to catch up when it opens: counted too.
        store: withEventLog(opts.store, countingReads(view, opts.system)),
        system: opts.system,
        timeZone: opts.timeZone,
        detector: opts.detector,
        minHistoryDays: opts.minHistoryDays,
        // Only the producer uses it, and a worker's producer never ingests: any value.
        gapThresholdSec: 180,
        logger: opts.logger,
        ...(opts.checkpointEverySnapshots !== undefined
          ? { checkpointEverySnapshots: opts.checkpointEverySnapshots }
          : {}),
        ...(opts.detectorOptions ? { detectorOptions: opts.detectorOptions } : {}),
      });
      return new SystemRunner(opts.system, pipeline, view);
    } catch (err) {
      await view.close();
      throw err;
    }
  }

  /** Offset both consumers have passed. */
  get offset(): number {
    return Math.min(this.pipeline.activity.committedOffset, this.pipeline.detection.processedOffset);
  }

  /**
   * Reads and processes at most `limit` events; returns how many. A failed read throws
   * LogReadError: nothing was applied, so the runner stays usable (no rebuild from the Store).
   */
  async step(limit: number): Promise<number> {
    let events: LoggedEvent[];
    try {
      events = await this.view.read(this.offset, limit);
    } catch (err) {
      throw new LogReadError(this.system, err);
    }
    if (events.length > 0) {
      this.uncommitted = events.length;
      await this.pipeline.activity.process(events);
      await this.pipeline.detection.process(events);
      this.uncommitted = 0;
      countProcessed(this.system, events);
    }
    // Both consumers commit each batch before the next read: what is left after it is their lag.
    this.setLag(this.view.pending);
    return events.length;
  }

  /**
   * Lag asked of JetStream now: called on a timer, so that it keeps growing while a step is stuck
   * (a slow or unreachable store) instead of showing the value of the last finished step.
   */
  async reportLag(): Promise<void> {
    const pending = await this.view.pendingNow();
    if (!this.closed) this.setLag(pending + this.uncommitted);
  }

  private setLag(events: number): void {
    metrics.consumerLag.set({ consumer: this.pipeline.activity.name }, events);
    metrics.consumerLag.set({ consumer: this.pipeline.detection.name }, events);
  }

  /** `flush`: save a detector checkpoint first (a clean hand-over); not when the lease was lost. */
  async close(flush: boolean): Promise<void> {
    // Another worker reports this system from now on.
    this.closed = true;
    metrics.consumerLag.remove({ consumer: this.pipeline.activity.name });
    metrics.consumerLag.remove({ consumer: this.pipeline.detection.name });
    try {
      if (flush) await this.pipeline.flush();
    } finally {
      await this.view.close();
    }
  }
}

/**
 * Reading the system's events failed (NATS slow or gone: "heartbeats missed" under load, a lost
 * consumer): the runner's memory still matches what it committed, so it can simply read again.
 */
export class LogReadError extends Error {
  constructor(
    readonly system: string,
    override readonly cause: unknown,
  ) {
    super(`${system}: cannot read the event log: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LogReadError';
  }
}

/** Processing metrics: events and documents (snapshot events), and the newest document time. */
function countProcessed(system: string, events: readonly LoggedEvent[]): void {
  let documents = 0;
  let newest: number | null = null;
  for (const e of events) {
    if (e.type !== 'snapshot') continue;
    documents++;
    if (newest === null || e.timeSec > newest) newest = e.timeSec;
  }
  const labels = { system };
  if (events.length > 0) brokerMetrics.processedEvents.inc(labels, events.length);
  if (documents > 0) brokerMetrics.processedDocuments.inc(labels, documents);
  if (newest !== null) brokerMetrics.processedDocumentTime.set(labels, newest);
}

function countingReads(view: SystemEventLog, system: string): EventLog {
  return {
    append: (events) => view.append(events),
    read: async (afterOffset, limit) => {
      const events = await view.read(afterOffset, limit);
      countProcessed(system, events);
      return events;
    },
    lastOffset: () => view.lastOffset(),
    consumerOffset: (consumer) => view.consumerOffset(consumer),
    commitOffset: (consumer, offset) => view.commitOffset(consumer, offset),
  };
}
