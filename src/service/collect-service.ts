import { SnapshotLog, SystemCollector, type JetStreamLog } from '../broker/index.js';
import type { SystemEntry } from '../config/systems-file.js';
import { FeedWatcher } from '../feed/http/index.js';
import type { SystemInformation } from '../feed/model.js';
import type { Logger } from '../log/index.js';
import { metrics } from '../metrics/index.js';
import type { FeedHealth, Store } from '../storage/index.js';
import { pruneStore, RETENTION_EVERY_MS } from './retention.js';

export interface CollectServiceOptions {
  store: Store;
  log: JetStreamLog;
  systems: readonly SystemEntry[];
  logger: Logger;
  /** Per system, while NATS or the Store is unreachable; default 120 (two hours of 1-min polls). */
  maxBufferedDocuments?: number;
  /** Blind after this much document time without a document; default 3 poll intervals. */
  gapThresholdSec?: number;
  /** First retry delay after a failed publish; default 500 ms. */
  retryDelayMs?: number;
  /**
   * The store's retention, applied hourly from here (the one role every deployment runs; a
   * second collector pruning too does no harm). Not given: no pruning.
   */
  retentionDays?: number;
}

const DEFAULT_TIME_ZONE = 'Europe/Paris';

/**
 * `dockwatch collect`: polls every system of the systems file with its own FeedWatcher, diffs each
 * accepted document against the system's DiffState (kept in the Store) and publishes the raw
 * document and its events to JetStream. One collector per system at a time (split the systems
 * file between collectors); it holds no state the Store and JetStream do not have.
 */
export class CollectService {
  private readonly watchers: FeedWatcher[] = [];
  private readonly startTimers: NodeJS.Timeout[] = [];
  readonly collectors = new Map<string, SystemCollector>();
  private readonly timeZones = new Map<string, string>();
  private retentionTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: CollectServiceOptions) {}

  async start(): Promise<void> {
    const { store, logger } = this.opts;
    const snapshots = await SnapshotLog.open(this.opts.log);
    const known = new Map((await store.listSystems()).map((s) => [s.id, s]));
    for (const entry of this.opts.systems) {
      const tz = entry.timezone ?? known.get(entry.id)?.timezone ?? DEFAULT_TIME_ZONE;
      this.timeZones.set(entry.id, tz);
      await this.saveSystem(entry, tz);
      const collector = new SystemCollector({
        store,
        log: this.opts.log,
        snapshots,
        system: entry.id,
        // Blind after 3 missed polls: the collector's own outage must never look like inactivity.
        gapThresholdSec: this.opts.gapThresholdSec ?? 3 * entry.pollIntervalSec,
        maxBufferedDocuments: this.opts.maxBufferedDocuments ?? 120,
        logger,
        ...(this.opts.retryDelayMs !== undefined ? { retryDelayMs: this.opts.retryDelayMs } : {}),
      });
      this.collectors.set(entry.id, collector);
      const watcher = new FeedWatcher({
        system: entry.id,
        feedUrl: entry.feedUrl,
        pollIntervalMs: entry.pollIntervalSec * 1000,
        language: entry.language,
        logger,
        handlers: {
          onSystemInformation: (info) => this.onSystemInformation(entry, info),
          onInformation: (doc) => collector.enqueueInformation(doc),
          onStatus: (doc, meta) => {
            const rejected: string[] = [];
            for (const r of meta.rejections) if (r.stationId !== null) rejected.push(r.stationId);
            const health = watcher.health();
            // Saved once the document is published and its diff state saved: `serve` rebuilds its
            // picture when lastDocumentSec moves, and must then find the new counts in the Store.
            collector.enqueueStatus(doc, rejected, () => {
              void store.saveFeedHealth(health).catch((err: unknown) => this.storeFailed(entry.id, err));
            });
          },
          // The watcher's health names the newest document *fetched*; `serve` rebuilds when that
          // time moves, so it must not run ahead of what is committed (the counts would lag a poll).
          onHealth: (health) =>
            void store
              .saveFeedHealth(committedOnly(health, collector.committedDocumentSec))
              .catch((err: unknown) => this.storeFailed(entry.id, err)),
        },
      });
      this.watchers.push(watcher);
    }
    // Spread the first polls over one interval: started together, N systems would be polled in the
    // same second every minute, and every document would wait behind the whole burst downstream.
    this.watchers.forEach((w, i) => {
      const delayMs = (i / this.watchers.length) * this.opts.systems[i]!.pollIntervalSec * 1000;
      if (delayMs === 0) w.start();
      else this.startTimers.push(setTimeout(() => w.start(), delayMs));
    });
    logger.info({ systems: this.opts.systems.length }, `collecting ${this.opts.systems.length} systems`);
    if (this.opts.retentionDays !== undefined) {
      void this.prune();
      this.retentionTimer = setInterval(() => void this.prune(), RETENTION_EVERY_MS);
      this.retentionTimer.unref();
    }
  }

  /** One retention pass over the store (every system); returns the rows deleted. */
  prune(): Promise<number> {
    return pruneStore(this.opts.store, {
      nowSec: Math.floor(Date.now() / 1000),
      retentionDays: this.opts.retentionDays ?? Infinity,
      logger: this.opts.logger,
      onError: (err) => this.storeFailed('*', err),
    });
  }

  /** Resolves when every collector has published what it has buffered (tests). */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.collectors.values()].map((c) => c.whenIdle()));
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    for (const t of this.startTimers.splice(0)) clearTimeout(t);
    await Promise.all(this.watchers.map((w) => w.stop()));
    await Promise.all([...this.collectors.values()].map((c) => c.stop()));
  }

  /** The feed's own time zone, unless the systems file overrides it. */
  private async onSystemInformation(entry: SystemEntry, info: SystemInformation): Promise<void> {
    if (entry.timezone !== undefined || info.timezone === this.timeZones.get(entry.id)) return;
    this.timeZones.set(entry.id, info.timezone);
    await this.saveSystem(entry, info.timezone).catch((err: unknown) => this.storeFailed(entry.id, err));
  }

  private async saveSystem(entry: SystemEntry, timezone: string): Promise<void> {
    await this.opts.store.upsertSystem({ id: entry.id, name: entry.name, feedUrl: entry.feedUrl, timezone });
  }

  private storeFailed(system: string, err: unknown): void {
    metrics.storeErrors.inc({ system });
    this.opts.logger.error({ system, err }, 'storage error: will retry');
  }
}

/** `health` with its document time no later than the newest committed document. */
export function committedOnly(health: FeedHealth, committedSec: number | null): FeedHealth {
  if (health.lastDocumentSec === null || committedSec === null || health.lastDocumentSec <= committedSec)
    return health;
  return { ...health, lastDocumentSec: committedSec };
}
