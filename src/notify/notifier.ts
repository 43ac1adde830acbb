/**
 * The notifier loop: announcer step, then outbox step, every `tickMs` and as soon as the pipeline
 * publishes something (LiveBus). A failed step is logged and counted, and the next one retries:
 * all state is in the stores, so nothing is lost and the pipeline never waits on it.
 */
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import type { Store } from '../storage/index.js';
import { Announcer } from './announcer.js';
import type { NotifyConfig } from './config.js';
import { Deliverer } from './deliverer.js';
import { notifyMetrics } from './metrics.js';
import { generateVapidKeys } from './push.js';
import type { NotifyStore, VapidKeys } from './types.js';

/** What the notifier needs of the API's LiveBus (structural: no import of api/ here). */
const MIN_GAP_MS = 200;

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

  private constructor(
    private readonly opts: NotifierOptions,
    readonly vapid: VapidKeys,
  ) {
    this.log = opts.logger ?? silentLogger;
    this.tickMs = opts.tickMs ?? 1000;
    this.minGapMs = Math.min(MIN_GAP_MS, this.tickMs);
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
  }

  /** Stops the loop and waits for the step in progress (its writes finish; nothing is cut). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
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
