import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import { createDetector } from '../detection/index.js';
import type { StateChange } from '../detection/index.js';
import type { LoggedEvent } from '../events/index.js';
import type { InformationDocument, StatusDocument } from '../feed/model.js';
import { metrics } from '../metrics/index.js';
import type { Store } from '../storage/types.js';
import { ActivityConsumer } from './activity-consumer.js';
import { DetectionConsumer } from './detection-consumer.js';
import { Producer } from './producer.js';

/** Who hears about committed work (the API's LiveBus fits). */
export interface PipelineListener {
  publishStateChange(change: StateChange): void;
  publishSnapshot(system: string, timeSec: number): void;
}

export interface PipelineOptions {
  store: Store;
  system: string;
  timeZone: string;
  detector: string;
  minHistoryDays: number;
  /** More than this between two accepted documents is blind time (feed_gap). */
  gapThresholdSec: number;
  /** Detector checkpoint cadence, in documents. */
  checkpointEverySnapshots?: number;
  listener?: PipelineListener;
  logger?: Logger;
  /** Extra detector options (thresholds…), passed through to the detector. */
  detectorOptions?: Record<string, unknown>;
}

export interface PipelineCounts {
  documents: number;
  stationObservations: number;
  events: number;
  stateChanges: number;
}

const CATCH_UP_BATCH = 20_000;

/**
 * One system's pipeline in one process: producer → log → (activity, detection) consumers.
 * The consumers normally take the events just appended (fast path); whenever one is behind the
 * log (restart, earlier failure) it first catches up by reading the log from its own offset.
 */
export class Pipeline {
  readonly producer: Producer;
  readonly activity: ActivityConsumer;
  readonly detection: DetectionConsumer;
  readonly counts: PipelineCounts = { documents: 0, stationObservations: 0, events: 0, stateChanges: 0 };
  private readonly logger: Logger;

  private constructor(private readonly opts: PipelineOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.producer = new Producer(opts.store, opts.system, { gapThresholdSec: opts.gapThresholdSec });
    this.activity = new ActivityConsumer(opts.store, opts.system, opts.timeZone);
    const detector = createDetector(opts.detector, {
      ...opts.detectorOptions,
      system: opts.system,
      minHistoryDays: opts.minHistoryDays,
    });
    this.detection = new DetectionConsumer(opts.store, opts.system, detector, this.activity.model, {
      checkpointEverySnapshots: opts.checkpointEverySnapshots ?? 60,
      onChange: (c) => opts.listener?.publishStateChange(c),
    });
  }

  /** Opens the pipeline on a store, restoring every stage and catching up with the log. */
  static async open(opts: PipelineOptions): Promise<Pipeline> {
    const p = new Pipeline(opts);
    await p.producer.init();
    await p.activity.init(p.producer.lastDocumentSec);
    await p.detection.init();
    const behind = await p.catchUp();
    if (behind > 0) {
      await p.detection.saveAllStates();
      p.logger.info({ system: opts.system, events: behind }, 'caught up with the event log after restart');
    }
    return p;
  }

  get system(): string {
    return this.opts.system;
  }

  async ingestInformation(doc: InformationDocument): Promise<void> {
    const logged = await this.producer.ingestInformation(doc);
    this.counts.events += logged.length;
    await this.consume(logged);
  }

  /** One accepted station_status document through the whole pipeline. Returns the events it made. */
  async ingestStatus(doc: StatusDocument, rejectedStationIds?: Set<string>): Promise<LoggedEvent[]> {
    const logged = await this.producer.ingestStatus(doc, rejectedStationIds);
    if (logged.length === 0) return logged;
    this.counts.documents++;
    this.counts.stationObservations += doc.stations.length;
    this.counts.events += logged.length;
    await this.consume(logged);
    this.opts.listener?.publishSnapshot(this.opts.system, doc.lastUpdatedSec);
    return logged;
  }

  /** Saves a detector checkpoint now (before a clean stop). */
  async flush(): Promise<void> {
    this.counts.stateChanges += (await this.detection.process([], { forceCheckpoint: true })).length;
  }

  /** Reads the log for whichever consumer is behind. Returns the number of events re-read. */
  async catchUp(): Promise<number> {
    const log = this.opts.store.log;
    let from = Math.min(this.activity.committedOffset, this.detection.processedOffset);
    const end = await log.lastOffset();
    let read = 0;
    while (from < end) {
      const batch = await log.read(from, CATCH_UP_BATCH);
      if (batch.length === 0) break;
      await this.activity.process(batch);
      this.counts.stateChanges += (await this.detection.process(batch)).length;
      from = batch[batch.length - 1]!.offset;
      read += batch.length;
    }
    return read;
  }

  private async consume(logged: readonly LoggedEvent[]): Promise<void> {
    const first = logged[0]?.offset;
    if (first === undefined) return;
    if (this.activity.committedOffset < first - 1 || this.detection.processedOffset < first - 1)
      await this.catchUp();
    await this.activity.process(logged);
    const changes = await this.detection.process(logged);
    this.counts.stateChanges += changes.length;
    metrics.consumerLag.set({ consumer: this.activity.name }, 0);
    metrics.consumerLag.set({ consumer: this.detection.name }, 0);
  }
}
