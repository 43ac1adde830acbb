/**
 * What the API's routes call: subscription management with its checks (admin token, outbound
 * URL, push keys). HTTP-free, so the rules are tested once here and the routes stay thin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { StationState } from '../detection/index.js';
import type { NotifyConfig } from './config.js';
import { newWebhookSecret } from './signature.js';
import type {
  Area,
  DeliveryRecord,
  NotifyStore,
  OutboxStatus,
  PushLang,
  PushSubscriptionRecord,
  Webhook,
} from './types.js';
import { checkOutboundUrl } from './url-guard.js';

/** A bad input, named by its parameter; the routes turn it into the API's error body. */
export class NotifyInputError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'NotifyInputError';
  }
}

/** The system keeps as many push subscriptions as it may (DOCKWATCH_PUSH_MAX_SUBSCRIPTIONS). */
export class NotifyCapacityError extends Error {
  constructor(readonly limit: number) {
    super(
      `This server keeps at most ${limit} push subscriptions and has no room for another: ask its operator.`,
    );
    this.name = 'NotifyCapacityError';
  }
}

export type AdminCheck = 'ok' | 'disabled' | 'missing' | 'wrong';

export interface WebhookInput {
  url: string;
  description?: string | null;
  /** Resolved by the caller from the codes people know (station list filter); null = no list. */
  stations?: { ids: string[]; codes: string[] } | null;
  area?: Area | null;
  states?: StationState[] | null;
}

export interface PushInput {
  endpoint: string;
  p256dh: string;
  auth: string;
  stations: { ids: string[]; codes: string[] };
  lang: PushLang;
}

export interface NotifyServiceOptions {
  system: string;
  notifyStore: NotifyStore;
  config: NotifyConfig;
  vapidPublicKey: string;
  /** Host name resolver for URL checks (tests); the system resolver by default. */
  resolve?: (host: string) => Promise<string[]>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function base64urlBytes(s: string): number {
  return /^[A-Za-z0-9_-]+$/.test(s) ? Buffer.from(s, 'base64url').length : -1;
}

/** The subscription as the API shows it: never the secret (given once, at creation). */
export function webhookView(w: Webhook): Omit<Webhook, 'secret' | 'system'> {
  const { secret: _secret, system: _system, ...view } = w;
  return view;
}

export class NotifyService {
  constructor(private readonly opts: NotifyServiceOptions) {}

  get system(): string {
    return this.opts.system;
  }

  get vapidPublicKey(): string {
    return this.opts.vapidPublicKey;
  }

  /** Requests per client IP and window on each public push route that writes. */
  get pushRateLimit(): { max: number; windowMs: number } {
    return { max: this.opts.config.pushRateLimit, windowMs: this.opts.config.pushRateWindowSec * 1000 };
  }

  /** `Authorization: Bearer <token>`, compared in constant time (hashes of equal length). */
  checkAdmin(authorization: string | undefined): AdminCheck {
    const token = this.opts.config.adminToken;
    if (token === undefined || token === '') return 'disabled';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return 'missing';
    return timingSafeEqual(digest(m[1]!), digest(token)) ? 'ok' : 'wrong';
  }

  async createWebhook(input: WebhookInput): Promise<Webhook> {
    const check = await checkOutboundUrl(input.url, {
      allowPrivate: this.opts.config.allowPrivate,
      ...(this.opts.resolve ? { resolve: this.opts.resolve } : {}),
    });
    if (!check.ok) throw new NotifyInputError('url', `The webhook URL is refused: ${check.message}.`);
    const stations = input.stations ?? null;
    const area = input.area ?? null;
    if (stations !== null && area !== null) {
      throw new NotifyInputError('area', 'Give a list of stations or an area, not both.');
    }
    if (stations !== null && stations.ids.length === 0) {
      throw new NotifyInputError(
        'stations',
        'The list of stations is empty: leave it out to follow every station.',
      );
    }
    const states = input.states && input.states.length > 0 ? [...new Set(input.states)] : null;
    return this.opts.notifyStore.createWebhook(
      {
        system: this.opts.system,
        url: check.url.href,
        description: input.description ?? null,
        secret: newWebhookSecret(),
        stationIds: stations?.ids ?? null,
        stationCodes: stations?.codes ?? null,
        area,
        states,
      },
      Date.now(),
    );
  }

  listWebhooks(): Promise<Webhook[]> {
    return this.opts.notifyStore.listWebhooks(this.opts.system);
  }

  async getWebhook(id: number): Promise<Webhook | null> {
    const w = await this.opts.notifyStore.getWebhook(id);
    return w !== null && w.system === this.opts.system ? w : null;
  }

  async deleteWebhook(id: number): Promise<boolean> {
    if ((await this.getWebhook(id)) === null) return false;
    return this.opts.notifyStore.deleteWebhook(id, Date.now());
  }

  /** The delivery log of one subscription, newest first; null when the subscription is unknown. */
  async deliveries(
    webhookId: number,
    q: { status?: OutboxStatus; beforeId?: number; limit: number },
  ): Promise<DeliveryRecord[] | null> {
    if ((await this.getWebhook(webhookId)) === null) return null;
    return this.opts.notifyStore.listDeliveries({ channel: 'webhook', targetId: webhookId, ...q });
  }

  /** Puts a dead delivery back in the outbox. */
  async redeliver(webhookId: number, deliveryId: number): Promise<'requeued' | 'not_found' | 'not_dead'> {
    const d = await this.opts.notifyStore.getDelivery(deliveryId);
    if (d === null || d.channel !== 'webhook' || d.targetId !== webhookId) return 'not_found';
    if ((await this.getWebhook(webhookId)) === null) return 'not_found';
    return (await this.opts.notifyStore.requeue(deliveryId, Date.now())) ? 'requeued' : 'not_dead';
  }

  /** Throws NotifyInputError (bad endpoint or keys) or NotifyCapacityError (a new endpoint, no room). */
  async savePushSubscription(input: PushInput): Promise<PushSubscriptionRecord> {
    const check = await checkOutboundUrl(input.endpoint, {
      allowPrivate: this.opts.config.allowPrivate,
      httpsOnly: true,
      ...(this.opts.resolve ? { resolve: this.opts.resolve } : {}),
    });
    if (!check.ok) throw new NotifyInputError('endpoint', `The push endpoint is refused: ${check.message}.`);
    // RFC 8291: an uncompressed P-256 point (65 bytes, 0x04 first) and a 16-byte auth secret.
    const key = base64urlBytes(input.p256dh);
    if (key !== 65 || Buffer.from(input.p256dh, 'base64url')[0] !== 4) {
      throw new NotifyInputError(
        'keys.p256dh',
        'keys.p256dh must be an uncompressed P-256 public key, base64url.',
      );
    }
    if (base64urlBytes(input.auth) !== 16) {
      throw new NotifyInputError('keys.auth', 'keys.auth must be 16 bytes, base64url.');
    }
    const limit = this.opts.config.maxPushSubscriptions;
    const saved = await this.opts.notifyStore.upsertPushSubscription(
      {
        system: this.opts.system,
        endpoint: input.endpoint,
        p256dh: input.p256dh,
        auth: input.auth,
        stationIds: input.stations.ids,
        stationCodes: input.stations.codes,
        lang: input.lang,
      },
      Date.now(),
      limit,
    );
    if (saved === null) throw new NotifyCapacityError(limit);
    return saved;
  }

  removePushSubscription(endpoint: string): Promise<boolean> {
    return this.opts.notifyStore.deletePushSubscription(endpoint, Date.now());
  }
}
