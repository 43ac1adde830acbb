import type { StationState } from '../detection/index.js';
import type { StoredStateChange } from '../storage/index.js';

/**
 * Notifications: announcements of held state changes, fanned out to webhook subscriptions and
 * Web Push subscriptions through a durable outbox. Kept in their own store (NotifyStore), apart
 * from the pipeline's Store: the pipeline never waits on a receiver.
 */

export interface Area {
  lat: number;
  lon: number;
  radiusM: number;
}

export interface WebhookFilter {
  /** Feed station ids; null = every station (or the area). */
  stationIds: string[] | null;
  /** The codes the subscriber gave, for display; same order as stationIds. */
  stationCodes: string[] | null;
  area: Area | null;
  /** States of interest (`to` of the change); null = every announced change. */
  states: StationState[] | null;
}

export interface Webhook extends WebhookFilter {
  id: number;
  system: string;
  url: string;
  description: string | null;
  /** HMAC-SHA256 key; shown to the admin once, at creation. */
  secret: string;
  active: boolean;
  createdMs: number;
}

export type NewWebhook = Omit<Webhook, 'id' | 'active' | 'createdMs'>;

export type PushLang = 'fr' | 'en';

export interface PushSubscriptionRecord {
  id: number;
  system: string;
  endpoint: string;
  /** Browser keys, base64url (RFC 8291): P-256 public key and 16-byte auth secret. */
  p256dh: string;
  auth: string;
  stationIds: string[];
  stationCodes: string[];
  lang: PushLang;
  createdMs: number;
  updatedMs: number;
}

export type NewPushSubscription = Omit<PushSubscriptionRecord, 'id' | 'createdMs' | 'updatedMs'>;

/** What the announcer remembers of a station between ticks. */
export interface StationAnnounceState {
  stationId: string;
  /** Last state announced (or the baseline: the `from` of the first change seen). */
  announced: string;
  /** Latest change not yet held long enough; null when none waits. */
  pending: StoredStateChange | null;
}

export type Channel = 'webhook' | 'push';

/** What the announcer writes, atomically with its cursor. */
export interface NewAnnouncement {
  system: string;
  stationId: string;
  changeOffset: number;
  to: string;
  from: string;
  timeSec: number;
  /** Document time at which the change had held for the minimum time. */
  heldSec: number;
  /** The webhook body (JSON), the same for every subscriber. */
  payload: string;
  /** Held, but announced too late to be news: recorded, not delivered. */
  stale: boolean;
  deliveries: { channel: Channel; targetId: number }[];
}

export type OutboxStatus = 'pending' | 'delivered' | 'dead' | 'cancelled';

export interface OutboxItem {
  id: number;
  announcementId: number;
  channel: Channel;
  targetId: number;
  status: OutboxStatus;
  attempts: number;
  nextAttemptMs: number;
  lastStatus: number | null;
  lastError: string | null;
  createdMs: number;
  finishedMs: number | null;
}

export interface Announcement {
  id: number;
  system: string;
  stationId: string;
  changeOffset: number;
  from: string;
  to: string;
  timeSec: number;
  heldSec: number;
  payload: string;
  stale: boolean;
  createdMs: number;
}

export interface AttemptRecord {
  attempt: number;
  atMs: number;
  durationMs: number;
  httpStatus: number | null;
  error: string | null;
  outcome: 'delivered' | 'retry' | 'dead';
}

/** How one attempt ends the outbox row's turn. */
export type AttemptResult =
  { status: 'delivered' } | { status: 'pending'; nextAttemptMs: number } | { status: 'dead' };

export interface DeliveryQuery {
  channel?: Channel;
  targetId?: number;
  status?: OutboxStatus;
  /** Newest first: rows with id < beforeId. */
  beforeId?: number;
  limit: number;
}

export type DeliveryRecord = OutboxItem & { announcement: Announcement; attemptLog: AttemptRecord[] };

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/**
 * Notification storage. Same rules as the pipeline's Store: async (other backends are), every
 * multi-row write atomic, and idempotent where a restart may redo it.
 */
export interface NotifyStore {
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Keeps the first keys ever saved: two processes starting at once end with the same pair. */
  vapidKeys(generate: () => VapidKeys): Promise<VapidKeys>;

  createWebhook(w: NewWebhook, nowMs: number): Promise<Webhook>;
  listWebhooks(system: string): Promise<Webhook[]>;
  getWebhook(id: number): Promise<Webhook | null>;
  /** Removes the subscription and cancels its pending deliveries; the log stays. */
  deleteWebhook(id: number, nowMs: number): Promise<boolean>;

  /**
   * Insert or update by endpoint (a browser re-subscribing keeps one row). With `maxPerSystem`, a
   * new endpoint is refused (null) once the system has that many; an update always goes through.
   */
  upsertPushSubscription(
    p: NewPushSubscription,
    nowMs: number,
    maxPerSystem?: number,
  ): Promise<PushSubscriptionRecord | null>;
  getPushSubscription(id: number): Promise<PushSubscriptionRecord | null>;
  listPushSubscriptions(system: string): Promise<PushSubscriptionRecord[]>;
  deletePushSubscription(endpoint: string, nowMs: number): Promise<boolean>;
  deletePushSubscriptionById(id: number, nowMs: number): Promise<boolean>;

  /** Last state change id processed (null: never ran) and the stations' remembered states. */
  loadAnnouncer(system: string): Promise<{ cursor: number | null; stations: StationAnnounceState[] }>;
  /**
   * One atomic step: announcements (idempotent by system, station, change offset, to) with their
   * outbox rows, the stations' new states, and the cursor. Returns the ids of new announcements.
   */
  commitAnnouncer(
    system: string,
    step: { cursor: number; stations: StationAnnounceState[]; announcements: NewAnnouncement[] },
    nowMs: number,
  ): Promise<number[]>;

  /** Takes a lease on due pending rows so that no other worker sends them meanwhile. */
  claimDue(nowMs: number, leaseMs: number, limit: number): Promise<OutboxItem[]>;
  /** Logs one attempt and moves the row on (delivered, retry at a time, dead), releasing the lease. */
  recordAttempt(itemId: number, attempt: AttemptRecord, result: AttemptResult): Promise<void>;
  /** A row whose target vanished: cancelled without an attempt. */
  cancel(itemId: number, nowMs: number, reason: string): Promise<void>;
  getAnnouncement(id: number): Promise<Announcement | null>;
  listDeliveries(query: DeliveryQuery): Promise<DeliveryRecord[]>;
  getDelivery(id: number): Promise<DeliveryRecord | null>;
  /** Dead-letter → pending again, attempts reset (an admin's "redrive"). */
  requeue(id: number, nowMs: number): Promise<boolean>;
  /** Rows not yet delivered nor dead (for metrics and tests). */
  pendingCount(): Promise<number>;

  /**
   * One batch of retention, in one transaction (see PruneCounts). Pending deliveries are never
   * touched, and the newest row of each table stays so that ids are never reused.
   */
  pruneBatch(beforeMs: number, limit: number): Promise<PruneCounts>;
}

/** Rows deleted by a retention batch. */
export interface PruneCounts {
  /** Delivered, dead and cancelled outbox rows finished before the limit (with their attempts). */
  outbox: number;
  attempts: number;
  /** Announcements created before the limit that no outbox row points at any more. */
  announcements: number;
  /** Webhooks deleted before the limit that no outbox row points at any more. */
  webhooks: number;
}
