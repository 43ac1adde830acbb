/**
 * Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>` with the subscription's secret, sent
 * as `Dockwatch-Signature: v1=<hex>` next to `Dockwatch-Timestamp: <POSIX seconds>`. Signing the
 * timestamp with the body lets a receiver refuse replays of an old delivery (the scheme Stripe
 * and Slack use). The `v1=` prefix leaves room for a later scheme or several keys during rotation.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Dockwatch-Signature';
export const TIMESTAMP_HEADER = 'Dockwatch-Timestamp';
/** Receivers should refuse deliveries whose timestamp is further than this from their clock. */
export const DEFAULT_TOLERANCE_SEC = 300;

/** A new random secret (256 bits), prefixed so it is recognisable in a config file. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function signPayload(secret: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
  return `v1=${mac}`;
}

/**
 * What a receiver does (documented in docs/notifications.md): recompute the HMAC, compare in
 * constant time with every `v1=` value of the header, and check the timestamp's age.
 */
export function verifySignature(opts: {
  secret: string;
  body: string;
  timestampHeader: string | undefined;
  signatureHeader: string | undefined;
  nowSec: number;
  toleranceSec?: number;
}): boolean {
  const ts = Number(opts.timestampHeader);
  if (!Number.isInteger(ts) || opts.signatureHeader === undefined) return false;
  if (Math.abs(opts.nowSec - ts) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return false;
  const expected = Buffer.from(signPayload(opts.secret, ts, opts.body).slice(3), 'hex');
  for (const part of opts.signatureHeader.split(',')) {
    const [scheme, value] = part.trim().split('=', 2);
    if (scheme !== 'v1' || value === undefined || !/^[0-9a-f]{64}$/.test(value)) continue;
    if (timingSafeEqual(Buffer.from(value, 'hex'), expected)) return true;
  }
  return false;
}
