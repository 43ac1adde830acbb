/**
 * The notifier loop: announcer step, then outbox step, every `tickMs` and as soon as the pipeline
 * publishes something (LiveBus). A failed step is logged and counted, and the next one retries:
 * all state is in the stores, so nothing is lost and the pipeline never waits on it. A second,
 * unref'd timer runs the retention of the notification tables (retention.ts).
 */
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import type { Store } from '../storage/index.js';
import { Announcer } from './announcer.js';
import type { NotifyConfig } from './config.js';
import { Deliverer } from './deliverer.js';
import { notifyMetrics } from './metrics.js';
import { generateVapidKeys } from './push.js';
import { pruneNotifications } from './retention.js';
import type { NotifyStore, PruneCounts, VapidKeys } from './types.js';

const MIN_GAP_MS = 200;
/** Retention runs a minute after start (a service restarted often still prunes), then hourly like the store's. */
const RETENTION_FIRST_MS = 60_000;
const RETENTION_EVERY_MS = 3_600_000;
/** The store's default (DOCKWATCH_RETENTION_DAYS) when nobody passes a retention. */
const DEFAULT_RETENTION_DAYS = 60;

/** What the notifier needs of the API's LiveBus (structural: no import of api/ here). */
export interface WakeSource {
  subscribe(listener: (message: { kind: string }) => void): () => void;
}

export interface NotifierOptions {
  system: string;
  timeZone: string;
  store: Store;
  notifyStore: NotifyStore;
  config: NotifyConfig;
  logger?: Logger;
  /** Pause between steps when nothing wakes the loop. */
  tickMs?: number;
  live?: WakeSource;
  /** Deliveries sent at the same time. */
  concurrency?: number;
  random?: () => number;
  /** The store's retention (days), used when config.retentionDays (DOCKWATCH_NOTIFY_RETENTION_DAYS) is unset. */
  defaultRetentionDays?: number;
  /** Pause between two retention runs (the first comes after min(this, 1 min)). */
  retentionEveryMs?: number;
}

export class Notifier {
  readonly announcer: Announcer;
  readonly deliverer: Deliverer;
  private readonly log: Logger;
  private readonly tickMs: number;
  private readonly minGapMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private soon = false;
  private lastEndMs = 0;
  private stopped = true;
  private unsubscribe: (() => void) | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private pruning: Promise<unknown> | null = null;
  readonly retentionDays: number;

  private constructor(
    private readonly opts: NotifierOptions,
    readonly vapid: VapidKeys,
  ) {
    this.log = opts.logger ?? silentLogger;
    this.tickMs = opts.tickMs ?? 1000;
    this.minGapMs = Math.min(MIN_GAP_MS, this.tickMs);
    this.retentionDays = opts.config.retentionDays ?? opts.defaultRetentionDays ?? DEFAULT_RETENTION_DAYS;
    this.announcer = new Announcer({
      system: opts.system,
      store: opts.store,
      notifyStore: opts.notifyStore,
      holdSec: opts.config.holdSec,
      maxLagSec: opts.config.maxLagSec,
      publicUrl: opts.config.publicUrl,
      logger: this.log,
    });
    this.deliverer = new Deliverer({
      notifyStore: opts.notifyStore,
      config: opts.config,
      vapid,
      timeZone: opts.timeZone,
      logger: this.log,
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      ...(opts.random !== undefined ? { random: opts.random } : {}),
    });
  }

  /** Loads (or, at the very first start, generates and stores) the VAPID keys. */
  static async open(opts: NotifierOptions): Promise<Notifier> {
    const vapid = await opts.notifyStore.vapidKeys(generateVapidKeys);
    return new Notifier(opts, vapid);
  }

  get vapidPublicKey(): string {
    return this.vapid.publicKey;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.opts.live?.subscribe(() => this.wake()) ?? null;
    this.wake();
    const everyMs = this.opts.retentionEveryMs ?? RETENTION_EVERY_MS;
    this.scheduleRetention(Math.min(everyMs, RETENTION_FIRST_MS), everyMs);
  }

  /** Stops the loop and waits for the step in progress (its writes finish; nothing is cut). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.retentionTimer) clearTimeout(this.retentionTimer);
    this.retentionTimer = null;
    await this.running;
    await this.pruning;
  }

  /**
   * One retention run now (the timer's job; tests, CLI): finished deliveries, old announcements and
   * deleted webhooks older than `retentionDays`. A failure is logged and counted; the next run retries.
   */
  async prune(nowMs = Date.now()): Promise<PruneCounts | null> {
    try {
      return await pruneNotifications({
        notifyStore: this.opts.notifyStore,
        retentionDays: this.retentionDays,
        nowMs,
        logger: this.log,
      });
    } catch (err) {
      notifyMetrics.errors.inc({ stage: 'retention' });
      this.log.error({ err }, 'notify: retention failed, will retry at the next run');
      return null;
    }
  }

  private scheduleRetention(delayMs: number, everyMs: number): void {
    this.retentionTimer = setTimeout(() => {
      this.pruning = this.prune().finally(() => {
        this.pruning = null;
        if (!this.stopped) this.scheduleRetention(everyMs, everyMs);
      });
    }, delayMs);
    this.retentionTimer.unref();
  }

  /**
   * Run a step soon. Coalesced and spaced by MIN_GAP_MS: a fast replay publishes thousands of
   * snapshots a second, and the notifier must not turn each into store reads.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer && this.soon) return;
    this.schedule(Math.max(0, this.lastEndMs + this.minGapMs - Date.now()), true);
  }

  private schedule(delayMs: number, soon: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.soon = soon;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.loop();
    }, delayMs);
    this.timer.unref();
  }

  /** One announcer step and one outbox step, now (tests, CLI). */
  async runOnce(): Promise<{ announced: number; attempted: number }> {
    let announced = 0;
    let attempted = 0;
    try {
      announced = await this.announcer.tick();
    } catch (err) {
      notifyMetrics.errors.inc({ stage: 'announce' });
      this.log.error({ err }, 'notify: announcer step failed, will retry');
    }
    try {
      attempted = await this.deliverer.tick();
    } catch (err) {
      notifyMetrics.errors.inc({ stage: 'deliver' });
      this.log.error({ err }, 'notify: delivery step failed, will retry');
    }
    try {
      notifyMetrics.pending.set(await this.opts.notifyStore.pendingCount());
    } catch {
      // the gauge waits for the next step
    }
    return { announced, attempted };
  }

  private async loop(): Promise<void> {
    this.again = false;
    await this.runOnce();
    this.lastEndMs = Date.now();
    this.running = null;
    if (!this.stopped) this.schedule(this.again ? this.minGapMs : this.tickMs, this.again);
  }
}
