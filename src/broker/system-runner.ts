import type { Logger } from '../log/index.js';
import { metrics } from '../metrics/index.js';
import { Pipeline } from '../pipeline/index.js';
import type { Store } from '../storage/index.js';
import type { JetStreamLog, SystemEventLog } from './event-log.js';
import { withEventLog } from './log-store.js';

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
  private constructor(
    readonly system: string,
    private readonly pipeline: Pipeline,
    private readonly view: SystemEventLog,
  ) {}

  static async open(opts: SystemRunnerOptions): Promise<SystemRunner> {
    const view = opts.log.forSystem(opts.system, opts.store.log);
    try {
      const pipeline = await Pipeline.open({
        store: withEventLog(opts.store, view),
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

  /** Reads and processes at most `limit` events; returns how many. */
  async step(limit: number): Promise<number> {
    const events = await this.view.read(this.offset, limit);
    if (events.length > 0) {
      await this.pipeline.activity.process(events);
      await this.pipeline.detection.process(events);
    }
    const lag = this.view.pending;
    metrics.consumerLag.set({ consumer: this.pipeline.activity.name }, lag);
    metrics.consumerLag.set({ consumer: this.pipeline.detection.name }, lag);
    return events.length;
  }

  /** `flush`: save a detector checkpoint first (a clean hand-over); not when the lease was lost. */
  async close(flush: boolean): Promise<void> {
    try {
      if (flush) await this.pipeline.flush();
    } finally {
      await this.view.close();
    }
  }
}
