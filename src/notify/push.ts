/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), built
 * by the `web-push` library; the request itself goes through our guarded HTTP client like the
 * webhooks (same SSRF rules, same timeout, no redirects).
 */
import { createHash } from 'node:crypto';
import webpush from 'web-push';
import type { PushMessage } from './messages.js';
import type { PushSubscriptionRecord, VapidKeys } from './types.js';

export function generateVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

/** How long a push service keeps an undelivered message (a phone offline): older news is useless. */
export const PUSH_TTL_SEC = 6 * 3600;

export interface PushRequest {
  endpoint: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Topic (RFC 8030 §5.4): a push service replaces an undelivered message with a newer one of the
 * same topic, so a phone back online gets a station's latest state, not its whole history.
 * At most 32 base64url characters: a hash of the station.
 */
export function pushTopic(system: string, stationCode: string): string {
  return createHash('sha256').update(`${system}:${stationCode}`).digest('base64url').slice(0, 32);
}

export function pushRequest(
  sub: PushSubscriptionRecord,
  message: PushMessage,
  vapid: VapidKeys & { subject: string },
): PushRequest {
  const details = webpush.generateRequestDetails(
    { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
    JSON.stringify(message),
    {
      vapidDetails: vapid,
      TTL: PUSH_TTL_SEC,
      urgency: 'normal',
      topic: pushTopic(sub.system, message.station),
      contentEncoding: 'aes128gcm',
    },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(details.headers)) headers[k.toLowerCase()] = String(v);
  delete headers['content-length']; // the sender sets it from the body
  return { endpoint: details.endpoint, headers, body: details.body ?? Buffer.alloc(0) };
}

/** The push service says the subscription no longer exists: forget it (RFC 8030 §7.3). */
export function subscriptionGone(status: number | null): boolean {
  return status === 404 || status === 410;
}

/** Answers that no retry will change (bad request, VAPID refused, payload too large). */
export function pushPermanentFailure(status: number | null): boolean {
  return status === 400 || status === 401 || status === 403 || status === 413;
}
