/**
 * The scheduled function's work, one poll per invocation: the FeedWatcher (discovery, ttl of
 * station_information, conditional GETs, parsing, rejections) drives the same Pipeline as
 * `dockwatch watch` (diff → log → activity → detection), all in the same run.
 *
 * What a warm container keeps between invocations, and why it is safe:
 * - the FeedWatcher: discovered URLs, the catalogue and its ttl, ETag / Last-Modified, vehicle
 *   types, rejection counts. Losing it (cold start) costs one extra GET of station_information.
 * - the Pipeline: DiffState, activity model, detector state. It is only a cache of the store: each
 *   invocation first checks that the log's last offset is the one this container saw last. If
 *   another container wrote meanwhile (Lambda replaced this one, then came back to it), the
 *   pipeline is reopened from the store, exactly like after a crash.
 */
import { FeedWatcher, HttpFetcher, type FeedWatcherOptions } from '../feed/index.js';
import type { InformationDocument, Rejection, StatusDocument, SystemInformation } from '../feed/model.js';
import type { Logger } from '../log/index.js';
import { metrics } from '../metrics/index.js';
import { Pipeline } from '../pipeline/index.js';
import type { FeedHealth, Store } from '../storage/index.js';
import { pruneStore } from '../service/retention.js';
import { WatchedSystem } from '../service/watched-system.js';
import { InvocationScheduler } from './invocation-scheduler.js';

export interface FetchRunnerOptions {
  store: Store;
  system: string;
  systemName: string;
  feedUrl: string;
  language: string;
  /** Configured override; else system_information's, else the store's, else Europe/Paris. */
  timeZone: string | undefined;
  pollIntervalSec: number;
  gapThresholdSec: number;
  detector: string;
  minHistoryDays: number;
  retentionDays: number;
  logger: Logger;
  detectorOptions?: Record<string, unknown>;
  /** Wall clock (tests: a replayed archive's time). */
  now?: () => number;
  /** Per-request timeout; the function must end well within its own timeout. Default 10 s. */
  requestTimeoutMs?: number;
}

/** What one invocation did: logged as one line, returned to the caller (tests, `aws lambda invoke`). */
export interface FetchSummary {
  system: string;
  /** Accepted station_status documents (0 or 1, more only when catching up info + status). */
  documents: number;
  events: number;
  stateChanges: number;
  /** Rejections seen during this invocation, by reason. */
  rejected: Record<string, number>;
  /** The pipeline was (re)built from the store in this invocation. */
  opened: boolean;
  storeErrors: number;
  health: FeedHealth;
  durationMs: number;
}

export class FetchRunner {
  private readonly scheduler: InvocationScheduler;
  private readonly watcher: FeedWatcher;
  private pipeline: Pipeline | null = null;
  /** Last offset of the log as this container left it; null before the pipeline is open. */
  private knownLastOffset: number | null = null;
  private readonly record: WatchedSystem;
  private started = false;
  private run: RunTally = newTally();

  constructor(private readonly opts: FetchRunnerOptions) {
    this.scheduler = new InvocationScheduler(opts.now);
    this.record = new WatchedSystem({
      store: opts.store,
      system: opts.system,
      systemName: opts.systemName,
      feedUrl: opts.feedUrl,
      timeZone: opts.timeZone,
      logger: opts.logger,
      applyHint: 'applied at the next cold start',
    });
    const watcherOpts: FeedWatcherOptions = {
      system: opts.system,
      feedUrl: opts.feedUrl,
      pollIntervalMs: opts.pollIntervalSec * 1000,
      language: opts.language,
      scheduler: this.scheduler,
      // One retry at most: the next invocation is the real retry, a minute later.
      fetcher: new HttpFetcher({
        timeoutMs: opts.requestTimeoutMs ?? 10_000,
        retries: 1,
        baseDelayMs: 500,
        maxDelayMs: 2_000,
      }),
      logger: opts.logger,
      handlers: {
        onSystemInformation: (info) => this.onSystemInformation(info),
        onInformation: (doc) => this.onInformation(doc),
        onStatus: (doc, meta) => this.onStatus(doc, meta.rejections),
        onRejection: (r) => {
          this.run.rejected[r.reason] = (this.run.rejected[r.reason] ?? 0) + 1;
        },
      },
    };
    this.watcher = new FeedWatcher(watcherOpts);
  }

  /** One poll of the feed through the whole pipeline. Never throws for bad input or a bad feed. */
  async poll(): Promise<FetchSummary> {
    const startedMs = performance.now();
    this.run = newTally();
    if (!this.started) {
      this.started = true;
      await this.registerSystem();
      this.watcher.start(); // polls at once
    } else {
      this.scheduler.fire();
    }
    await this.watcher.whenIdle();
    const health = this.watcher.health();
    await this.opts.store.saveFeedHealth(health).catch((err: unknown) => this.storeFailed(err));
    await this.pruneHourly();
    return {
      system: this.opts.system,
      documents: this.run.documents,
      events: this.run.events,
      stateChanges: this.run.stateChanges,
      rejected: this.run.rejected,
      opened: this.run.opened,
      storeErrors: this.run.storeErrors,
      health,
      durationMs: Math.round(performance.now() - startedMs),
    };
  }

  /** Saves the detector checkpoint (tests; a function never knows when it is frozen for good). */
  async flush(): Promise<void> {
    await this.pipeline?.flush();
  }

  private onSystemInformation(info: SystemInformation): Promise<void> {
    return this.record.onSystemInformation(info, this.pipeline !== null);
  }

  private async onInformation(doc: InformationDocument): Promise<void> {
    await this.guarded(async (p) => {
      const before = p.counts.events;
      await p.ingestInformation(doc);
      // Information events are not returned by the pipeline: re-read where the log ends.
      if (p.counts.events > before) this.knownLastOffset = await this.opts.store.log.lastOffset();
      this.run.events += p.counts.events - before;
    });
  }

  private async onStatus(doc: StatusDocument, rejections: Rejection[]): Promise<void> {
    await this.guarded(async (p) => {
      const ids = new Set<string>();
      for (const r of rejections) if (r.stationId !== null) ids.add(r.stationId);
      const changesBefore = p.counts.stateChanges;
      const logged = await p.ingestStatus(doc, ids.size > 0 ? ids : undefined);
      const last = logged[logged.length - 1];
      if (last !== undefined) {
        this.knownLastOffset = last.offset;
        this.run.documents++;
      }
      this.run.events += logged.length;
      this.run.stateChanges += p.counts.stateChanges - changesBefore;
    });
  }

  /** Runs `fn` on a pipeline known to be current; a store failure drops the pipeline (rebuilt next time). */
  private async guarded(fn: (p: Pipeline) => Promise<void>): Promise<void> {
    try {
      await fn(await this.currentPipeline());
    } catch (err) {
      this.storeFailed(err);
      this.pipeline = null;
      this.knownLastOffset = null;
    }
  }

  private async currentPipeline(): Promise<Pipeline> {
    if (this.pipeline !== null) {
      const last = await this.opts.store.log.lastOffset();
      if (last === this.knownLastOffset) return this.pipeline;
      this.opts.logger.warn(
        { expected: this.knownLastOffset, found: last },
        'the log moved on without this container: reopening the pipeline from the store',
      );
      this.pipeline = null;
    }
    this.pipeline = await Pipeline.open({
      store: this.opts.store,
      system: this.opts.system,
      timeZone: this.record.timeZone,
      detector: this.opts.detector,
      minHistoryDays: this.opts.minHistoryDays,
      gapThresholdSec: this.opts.gapThresholdSec,
      logger: this.opts.logger,
      ...(this.opts.detectorOptions ? { detectorOptions: this.opts.detectorOptions } : {}),
    });
    // State changes found while catching up with the log count for this run.
    this.run.stateChanges += this.pipeline.counts.stateChanges;
    this.run.opened = true;
    this.knownLastOffset = await this.opts.store.log.lastOffset();
    return this.pipeline;
  }

  private async registerSystem(): Promise<void> {
    await this.record.register().catch((err: unknown) => this.storeFailed(err));
  }

  /**
   * Retention once an hour (the first minute of each hour, by the wall clock): stateless, so a
   * cold start does not prune twice. DynamoDB also expires items by TTL; prune is then cheap.
   */
  private async pruneHourly(): Promise<void> {
    const nowSec = Math.floor(this.scheduler.now() / 1000);
    if (Math.floor(nowSec / 60) % 60 !== 0) return;
    await pruneStore(this.opts.store, {
      nowSec,
      retentionDays: this.opts.retentionDays,
      logger: this.opts.logger,
      onError: (err) => this.storeFailed(err),
    });
  }

  private storeFailed(err: unknown): void {
    this.run.storeErrors++;
    metrics.storeErrors.inc({ system: this.opts.system });
    this.opts.logger.error({ err }, 'storage error: state kept, will retry at the next invocation');
  }
}

interface RunTally {
  documents: number;
  events: number;
  stateChanges: number;
  rejected: Record<string, number>;
  opened: boolean;
  storeErrors: number;
}

function newTally(): RunTally {
  return { documents: 0, events: 0, stateChanges: 0, rejected: {}, opened: false, storeErrors: 0 };
}
