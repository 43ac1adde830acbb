/** Notifications: webhooks and Web Push for held state changes, from a durable outbox. */
export type * from './types.js';
export {
  loadNotifyConfig,
  notifyConfigSchema,
  NotifyConfigError,
  NOTIFY_ENV,
  type NotifyConfig,
} from './config.js';
export { openNotifications, type Notifications, type NotificationsOptions } from './setup.js';
export { Notifier, type NotifierOptions, type WakeSource } from './notifier.js';
export { Announcer, worthAnnouncing, type AnnouncerOptions } from './announcer.js';
export { Deliverer, USER_AGENT, type DelivererOptions } from './deliverer.js';
export { pruneNotifications, PRUNE_BATCH, type PruneOptions } from './retention.js';
export { notifyMetrics } from './metrics.js';
export {
  NotifyService,
  NotifyInputError,
  NotifyCapacityError,
  webhookView,
  type AdminCheck,
  type NotifyServiceOptions,
  type PushInput,
  type WebhookInput,
} from './service.js';
export { SqliteNotifyStore, openSqliteNotifyStore } from './sqlite-store.js';
export {
  signPayload,
  verifySignature,
  newWebhookSecret,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  DEFAULT_TOLERANCE_SEC,
} from './signature.js';
export {
  checkOutboundUrl,
  guardedLookup,
  type UrlCheck,
  type UrlCheckOptions,
  type UrlProblem,
} from './url-guard.js';
export { isForbiddenAddress } from './addresses.js';
export { postOnce, type PostOptions, type PostResult } from './http-send.js';
export { backoffDelayMs, type BackoffOptions } from './backoff.js';
export { distanceM } from './matching.js';
export {
  announcementKey,
  pushMessage,
  WEBHOOK_EVENT,
  type PushMessage,
  type WebhookPayload,
} from './messages.js';
export { generateVapidKeys, pushTopic, PUSH_TTL_SEC } from './push.js';
