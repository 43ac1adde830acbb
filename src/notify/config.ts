/**
 * Notification settings from DOCKWATCH_* environment variables, validated once (same style as
 * src/config): every bad value is reported with its variable and what was expected.
 */
import { z } from 'zod';

const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const number = (what: string) => z.coerce.number({ error: `${what} must be a number` });

export const notifyConfigSchema = z.object({
  /** Bearer token of the management routes; unset = those routes answer 403. */
  adminToken: z.string().min(16, 'the admin token must be at least 16 characters').optional(),
  /** Lets webhooks and push endpoints reach private / loopback addresses (local tests, a LAN). */
  allowPrivate: flag.default(false),
  /** Document time a new state must hold before it is announced. */
  holdSec: number('hold time').min(0).max(86_400).default(600),
  /** A change that held longer ago than this (document time) is recorded but not sent. */
  maxLagSec: number('maximum lag')
    .min(60)
    .max(30 * 86_400)
    .default(3600),
  /** Failed attempts after which a delivery goes to the dead letters. */
  maxAttempts: number('attempts').int().min(1).max(50).default(8),
  /** First retry delay; doubles at each failure (with jitter), capped at backoffMaxMs. */
  backoffBaseMs: number('back-off').int().min(1).default(5_000),
  backoffMaxMs: number('back-off cap').int().min(1).default(3_600_000),
  requestTimeoutMs: number('request timeout').int().min(100).max(120_000).default(10_000),
  /** VAPID `sub` claim: how a push service reaches the operator. */
  vapidSubject: z
    .string()
    .regex(/^(mailto:|https:\/\/)/, 'must be a mailto: or https: URL')
    .default('mailto:dockwatch@example.invalid'),
  /** Public base URL of the web app, for links in notifications ('' = relative links). */
  publicUrl: z.string().default(''),
  /**
   * Days finished deliveries, old announcements and deleted webhooks are kept; unset = the
   * store's retention (DOCKWATCH_RETENTION_DAYS / --retention-days), passed by the caller.
   */
  retentionDays: number('retention').int().min(1).max(3650).optional(),
  /** Public push routes: requests per client IP per window (POST and DELETE each count apart). */
  pushRateLimit: number('push rate limit').int().min(1).max(100_000).default(20),
  pushRateWindowSec: number('push rate window').int().min(1).max(86_400).default(60),
  /** Push subscriptions one system keeps at most: a flood of new endpoints cannot fill the disk. */
  maxPushSubscriptions: number('push subscription cap').int().min(1).max(10_000_000).default(20_000),
});

export type NotifyConfig = z.infer<typeof notifyConfigSchema>;

export const NOTIFY_ENV: Record<keyof NotifyConfig, string> = {
  adminToken: 'DOCKWATCH_ADMIN_TOKEN',
  allowPrivate: 'DOCKWATCH_WEBHOOK_ALLOW_PRIVATE',
  holdSec: 'DOCKWATCH_NOTIFY_HOLD_SEC',
  maxLagSec: 'DOCKWATCH_NOTIFY_MAX_LAG_SEC',
  maxAttempts: 'DOCKWATCH_WEBHOOK_MAX_ATTEMPTS',
  backoffBaseMs: 'DOCKWATCH_WEBHOOK_BACKOFF_MS',
  backoffMaxMs: 'DOCKWATCH_WEBHOOK_BACKOFF_MAX_MS',
  requestTimeoutMs: 'DOCKWATCH_WEBHOOK_TIMEOUT_MS',
  vapidSubject: 'DOCKWATCH_VAPID_SUBJECT',
  publicUrl: 'DOCKWATCH_PUBLIC_URL',
  retentionDays: 'DOCKWATCH_NOTIFY_RETENTION_DAYS',
  pushRateLimit: 'DOCKWATCH_PUSH_RATE_LIMIT',
  pushRateWindowSec: 'DOCKWATCH_PUSH_RATE_WINDOW_SEC',
  maxPushSubscriptions: 'DOCKWATCH_PUSH_MAX_SUBSCRIPTIONS',
};

export class NotifyConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid notification configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'NotifyConfigError';
  }
}

/** Reads the DOCKWATCH_* variables above; `overrides` (tests, flags) win over the environment. */
export function loadNotifyConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<NotifyConfig> = {},
): NotifyConfig {
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(NOTIFY_ENV) as (keyof NotifyConfig)[]) {
    const value = env[NOTIFY_ENV[key]];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const parsed = notifyConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new NotifyConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '') as keyof NotifyConfig;
        // Never echo the admin token into logs.
        const shown = key === 'adminToken' ? '(hidden)' : JSON.stringify(merged[key]);
        return `${NOTIFY_ENV[key] ?? key} = ${shown}: ${issue.message}`;
      }),
    );
  }
  const config = { ...parsed.data, ...overrides };
  if (config.backoffMaxMs < config.backoffBaseMs) {
    throw new NotifyConfigError([`${NOTIFY_ENV.backoffMaxMs} must be >= ${NOTIFY_ENV.backoffBaseMs}`]);
  }
  return config;
}
