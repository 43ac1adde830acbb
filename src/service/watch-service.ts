import type { FastifyInstance } from 'fastify';
import { createApiServer, createLiveBus, type LiveBus } from '../api/index.js';
import { FeedWatcher } from '../feed/http/index.js';
import type { Rejection, StatusDocument, SystemInformation } from '../feed/model.js';
import type { Logger } from '../log/index.js';
import { metrics } from '../metrics/index.js';
import { Pipeline } from '../pipeline/index.js';
import { openNotifications, type Notifications } from '../notify/index.js';
import type { PublishOptions } from '../publish/index.js';
import type { Store } from '../storage/index.js';
import { pruneStore, RETENTION_EVERY_MS } from './retention.js';
import { WatchedSystem } from './watched-system.js';

export interface WatchServiceOptions {
  store: Store;
  system: string;
  systemName: string;
  feedUrl: string;
  language: string;
  /** Configured override; else system_information's, else the last known, else Europe/Paris. */
  timeZone: string | undefined;
  pollIntervalSec: number;
  detector: string;
  minHistoryDays: number;
  retentionDays: number;
  logger: Logger;
  /** null: no HTTP server (tests of the pipeline alone). */
  http: { host: string; port: number; webRoot?: string; tileUrl: string } | null;
  detectorOptions?: Record<string, unknown>;
  /** Document time between two polls when it differs from the poll interval (an accelerated simulator). */
  documentIntervalSec?: number;
  /** Blind after this much document time without a document; default 3 × documentIntervalSec. */
  gapThresholdSec?: number;
  /** SQLite file for webhooks / Web Push (the store's own file); notifications are off without it. */
  notificationsDatabase?: string;
  /** Public URL and contact for the corrected GBFS feed and Atom feeds. */
  publish?: PublishOptions;
}

/**
 * The one-process service: feed watcher → pipeline (log, activity, detection) → API + web app.
 * Nothing starts in the constructor; `start()` does, `stop()` ends cleanly (checkpoint saved).
 */
export class WatchService {
  readonly live: LiveBus = createLiveBus();
  private watcher: FeedWatcher | null = null;
  private pipeline: Pipeline | null = null;
  private api: FastifyInstance | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private notifications: Notifications | null = null;
  private readonly record: WatchedSystem;
  private readonly log: Logger;

  constructor(private readonly opts: WatchServiceOptions) {
    this.log = opts.logger.child({ system: opts.system });
    this.record = new WatchedSystem({
      store: opts.store,
      system: opts.system,
      systemName: opts.systemName,
      feedUrl: opts.feedUrl,
      timeZone: opts.timeZone,
      logger: this.log,
      applyHint: 'restart dockwatch to apply it',
    });
  }

  /** Base URL of the HTTP server once started. */
  url: string | null = null;

  async start(): Promise<void> {
    const { store, system } = this.opts;
    await this.record.register();

    if (this.opts.notificationsDatabase !== undefined) {
      this.notifications = await openNotifications({
        database: this.opts.notificationsDatabase,
        store,
        system,
        timeZone: this.record.timeZone,
        logger: this.log,
        live: this.live,
        retentionDays: this.opts.retentionDays,
      });
      this.notifications.notifier.start();
    }

    if (this.opts.http) {
      this.api = await createApiServer({
        ...(this.notifications ? { notify: this.notifications.service } : {}),
        ...(this.opts.publish ? { publish: this.opts.publish } : {}),
        store,
        systemId: system,
        timezone: this.record.timeZone,
        pollIntervalSec: this.opts.pollIntervalSec,
        live: this.live,
        logger: this.log,
        tileUrl: this.opts.http.tileUrl,
        language: this.opts.language,
        ...(this.opts.http.webRoot ? { webRoot: this.opts.http.webRoot } : {}),
      });
      this.url = await this.api.listen({ host: this.opts.http.host, port: this.opts.http.port });
      this.log.info({ url: this.url }, `web app and API at ${this.url}`);
    }

    this.watcher = new FeedWatcher({
      system,
      feedUrl: this.opts.feedUrl,
      pollIntervalMs: this.opts.pollIntervalSec * 1000,
      language: this.opts.language,
      logger: this.opts.logger,
      handlers: {
        onSystemInformation: (info) => this.onSystemInformation(info),
        onInformation: async (doc) => (await this.openPipeline()).ingestInformation(doc),
        onStatus: (doc, meta) => this.onStatus(doc, meta.rejections),
        onHealth: (health) =>
          void store.saveFeedHealth(health).catch((err: unknown) => this.storeFailed(err)),
        // An unreachable feed shows in GET /systems and /readyz at once, not only once stale.
        onRejection: (rejection) => {
          if (rejection.reason !== 'http_error') return;
          // After the watcher has counted the failure (it reports the rejection first).
          setImmediate(() => {
            if (this.watcher === null) return;
            store.saveFeedHealth(this.watcher.health()).catch((err: unknown) => this.storeFailed(err));
          });
        },
      },
    });
    this.watcher.start();
    this.retentionTimer = setInterval(() => void this.prune(), RETENTION_EVERY_MS);
    this.retentionTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.watcher?.stop();
    await this.api?.close();
    await this.notifications?.close();
    try {
      await this.pipeline?.flush();
    } catch (err) {
      this.log.error({ err }, 'could not save the detector checkpoint on stop');
    }
  }

  private onSystemInformation(info: SystemInformation): Promise<void> {
    return this.record.onSystemInformation(info, this.pipeline !== null);
  }

  private async onStatus(doc: StatusDocument, rejections: Rejection[]): Promise<void> {
    try {
      const pipeline = await this.openPipeline();
      const ids = new Set<string>();
      for (const r of rejections) if (r.stationId !== null) ids.add(r.stationId);
      await pipeline.ingestStatus(doc, ids.size > 0 ? ids : undefined);
      if (this.watcher) await this.opts.store.saveFeedHealth(this.watcher.health());
    } catch (err) {
      // The store failed (disk full, locked…): keep the last good state, rebuild the pipeline
      // from the store at the next document, and keep polling.
      this.storeFailed(err);
      this.pipeline = null;
    }
  }

  private async openPipeline(): Promise<Pipeline> {
    this.pipeline ??= await Pipeline.open({
      store: this.opts.store,
      system: this.opts.system,
      timeZone: this.record.timeZone,
      detector: this.opts.detector,
      minHistoryDays: this.opts.minHistoryDays,
      // Blind after 3 missed polls: the watcher's own outage must never look like inactivity.
      gapThresholdSec:
        this.opts.gapThresholdSec ?? 3 * (this.opts.documentIntervalSec ?? this.opts.pollIntervalSec),
      listener: this.live,
      logger: this.log,
      ...(this.opts.detectorOptions ? { detectorOptions: this.opts.detectorOptions } : {}),
    });
    return this.pipeline;
  }

  private async prune(): Promise<void> {
    await pruneStore(this.opts.store, {
      nowSec: Math.floor(Date.now() / 1000),
      retentionDays: this.opts.retentionDays,
      logger: this.log,
      onError: (err) => this.storeFailed(err),
    });
  }

  private storeFailed(err: unknown): void {
    metrics.storeErrors.inc({ system: this.opts.system });
    this.log.error({ err }, 'storage error: state kept, will retry at the next document');
  }
}
