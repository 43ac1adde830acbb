/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), built
 * by the `web-push` library; the request itself goes through our guarded HTTP client like the
 * webhooks (same SSRF rules, same timeout, no redirects).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { PushMessage } from './messages.js';
import type { PushSubscriptionRecord, VapidKeys } from './types.js';

type WebPush = typeof import('web-push');

/**
 * `web-push` (with asn1.js, bn.js, jws…) is loaded by the first push sent, not by every watcher
 * at start: most never send one (−0.3 to −0.5 MB of live heap idle, docs/performance.md §3).
 */
let library: Promise<WebPush> | undefined;
function webPush(): Promise<WebPush> {
  library ??= import('web-push').then((lib) => lib.default);
  return library;
}

/**
 * A VAPID key pair (P-256) in the form web-push and browsers take: the public key as the
 * uncompressed point (0x04 ‖ x ‖ y, 65 bytes), the private key as the 32-byte scalar, both
 * base64url. Made with node:crypto, so the first start does not load web-push for it.
 */
export function generateVapidKeys(): VapidKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = privateKey.export({ format: 'jwk' });
  const { x, y, d } = jwk;
  if (x === undefined || y === undefined || d === undefined) throw new Error('P-256 key without x, y or d');
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(x, 'base64url'), Buffer.from(y, 'base64url')]);
  return { publicKey: point.toString('base64url'), privateKey: d };
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

export async function pushRequest(
  sub: PushSubscriptionRecord,
  message: PushMessage,
  vapid: VapidKeys & { subject: string },
): Promise<PushRequest> {
  const webpush = await webPush();
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
