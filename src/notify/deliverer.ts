/**
 * The outbox worker: takes due deliveries (with a lease, so two workers on one database never
 * send the same row at once), sends each, and logs the attempt while moving the row on in one
 * transaction — delivered, retry later (exponential back-off with jitter), or dead after
 * `maxAttempts`. Retries are wall-clock (a receiver's outage is wall-clock too), unlike the
 * announcer's hold, which is document time.
 *
 * A restart loses nothing (the outbox is durable; a row waiting for its retry keeps its time) and
 * sends nothing twice, except in one case no sender can avoid: a crash after the receiver
 * answered 2xx and before the row was marked delivered. Then the lease expires and the delivery
 * is sent again with the same `Dockwatch-Delivery` id, which receivers use to drop the repeat.
 */
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import { backoffDelayMs } from './backoff.js';
import type { NotifyConfig } from './config.js';
import { postOnce, type PostResult } from './http-send.js';
import { pushMessage, WEBHOOK_EVENT, type WebhookPayload } from './messages.js';
import { notifyMetrics } from './metrics.js';
import { pushPermanentFailure, pushRequest, subscriptionGone } from './push.js';
import { signPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.js';
import type { AttemptResult, NotifyStore, OutboxItem, VapidKeys } from './types.js';

export interface DelivererOptions {
  notifyStore: NotifyStore;
  config: NotifyConfig;
  vapid: VapidKeys;
  timeZone: string;
  logger?: Logger;
  /** Deliveries sent at the same time. */
  concurrency?: number;
  random?: () => number;
}

export const USER_AGENT = 'dockwatch-notifier/1';

/** `goneSubscription`: a push subscription to forget once this attempt is logged. */
type Outcome = { post: PostResult; permanent: boolean; goneSubscription?: number } | { cancel: string };

export class Deliverer {
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly leaseMs: number;

  constructor(private readonly opts: DelivererOptions) {
    this.log = opts.logger ?? silentLogger;
    this.concurrency = opts.concurrency ?? 4;
    // Longer than any attempt can take, so a live worker never loses its lease mid-send.
    this.leaseMs = opts.config.requestTimeoutMs * 2 + 5_000;
  }

  /** Sends everything due now. Returns the number of attempts made. */
  async tick(): Promise<number> {
    let attempts = 0;
    for (;;) {
      const due = await this.opts.notifyStore.claimDue(Date.now(), this.leaseMs, this.concurrency);
      if (due.length === 0) return attempts;
      await Promise.all(due.map((item) => this.deliver(item)));
      attempts += due.length;
    }
  }

  private async deliver(item: OutboxItem): Promise<void> {
    const store = this.opts.notifyStore;
    const atMs = Date.now();
    let outcome: Outcome;
    try {
      outcome = item.channel === 'webhook' ? await this.sendWebhook(item) : await this.sendPush(item);
    } catch (err) {
      // A bug or a bad row must not stop the other deliveries: count it as a failed attempt.
      outcome = {
        post: { status: null, error: `internal: ${String(err)}`.slice(0, 300), durationMs: 0 },
        permanent: false,
      };
    }
    if ('cancel' in outcome) {
      await store.cancel(item.id, atMs, outcome.cancel);
      return;
    }
    const { post, permanent } = outcome;
    const attempt = item.attempts + 1;
    const ok = post.error === null;
    let result: AttemptResult;
    if (ok) result = { status: 'delivered' };
    else if (permanent || attempt >= this.opts.config.maxAttempts) result = { status: 'dead' };
    else {
      const delay = backoffDelayMs(
        attempt,
        { baseMs: this.opts.config.backoffBaseMs, maxMs: this.opts.config.backoffMaxMs },
        this.opts.random,
      );
      result = { status: 'pending', nextAttemptMs: Date.now() + delay };
    }
    const label = result.status === 'pending' ? 'retry' : result.status;
    await store.recordAttempt(
      item.id,
      {
        attempt,
        atMs,
        durationMs: post.durationMs,
        httpStatus: post.status,
        error: post.error,
        outcome: label,
      },
      result,
    );
    notifyMetrics.attempts.inc({ channel: item.channel, outcome: label });
    if (outcome.goneSubscription !== undefined) {
      // The browser unsubscribed or the subscription expired (RFC 8030 §7.3): forget it.
      await store.deletePushSubscriptionById(outcome.goneSubscription, Date.now());
    }
    if (label === 'dead') {
      this.log.warn(
        { delivery: item.id, channel: item.channel, attempts: attempt, error: post.error },
        'notify: delivery dead-lettered',
      );
    }
  }

  private async sendWebhook(item: OutboxItem): Promise<Outcome> {
    const store = this.opts.notifyStore;
    const [hook, announcement] = await Promise.all([
      store.getWebhook(item.targetId),
      store.getAnnouncement(item.announcementId),
    ]);
    if (hook === null || !hook.active) return { cancel: 'subscription deleted' };
    if (announcement === null) return { cancel: 'announcement missing' };
    const timestampSec = Math.floor(Date.now() / 1000);
    const body = announcement.payload;
    const post = await postOnce(hook.url, {
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'dockwatch-event': WEBHOOK_EVENT,
        'dockwatch-delivery': String(item.id),
        [TIMESTAMP_HEADER.toLowerCase()]: String(timestampSec),
        [SIGNATURE_HEADER.toLowerCase()]: signPayload(hook.secret, timestampSec, body),
      },
      body,
      timeoutMs: this.opts.config.requestTimeoutMs,
      allowPrivate: this.opts.config.allowPrivate,
    });
    return { post, permanent: false };
  }

  private async sendPush(item: OutboxItem): Promise<Outcome> {
    const store = this.opts.notifyStore;
    const [sub, announcement] = await Promise.all([
      store.getPushSubscription(item.targetId),
      store.getAnnouncement(item.announcementId),
    ]);
    if (sub === null) return { cancel: 'push subscription removed' };
    if (announcement === null) return { cancel: 'announcement missing' };
    const payload = JSON.parse(announcement.payload) as WebhookPayload;
    const message = pushMessage({ lang: sub.lang, payload, timeZone: this.opts.timeZone });
    const req = await pushRequest(sub, message, {
      ...this.opts.vapid,
      subject: this.opts.config.vapidSubject,
    });
    const post = await postOnce(req.endpoint, {
      headers: { ...req.headers, 'user-agent': USER_AGENT },
      body: req.body,
      timeoutMs: this.opts.config.requestTimeoutMs,
      allowPrivate: this.opts.config.allowPrivate,
    });
    if (subscriptionGone(post.status)) return { post, permanent: true, goneSubscription: sub.id };
    return { post, permanent: pushPermanentFailure(post.status) };
  }
}
