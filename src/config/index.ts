/**
 * Configuration from CLI flags and DOCKWATCH_* environment variables (flags win), validated once at
 * start-up: every bad value is reported with its source and what was expected, then we exit.
 */
import { z } from 'zod';

export const VELIB_GBFS_URL =
  'https://velib-metropole-opendata.smovengo.cloud/opendata/Velib_Metropole/gbfs.json';

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be > 0`);

export const configSchema = z.object({
  feedUrl: z.url({
    protocol: /^https?$/,
    error: 'must be an http(s) URL of a gbfs.json or station_status.json',
  }),
  systemId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'must be letters, digits, - or _ (max 63)')
    .optional(),
  language: z.string().min(2).max(10).default('fr'),
  timezone: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Paris')
    .optional(),
  /** Fractions are allowed (tests poll fast); real feeds change about once a minute. */
  pollIntervalSec: z.coerce
    .number({ error: 'poll interval must be a number of seconds' })
    .min(0.1, 'poll interval must be at least 0.1 s')
    .max(3600, 'poll interval must be at most 3600 s')
    .default(60),
  /** Silence (document time) after which the watcher counts itself blind; default 3 polls. */
  gapSec: z.coerce
    .number({ error: 'gap must be a number of seconds' })
    .positive('gap must be > 0')
    .optional(),
  database: z.string().min(1).default('./data/dockwatch.sqlite'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  detector: z.string().min(1).default('poisson'),
  minHistoryDays: z.coerce.number().int().min(0).max(60).default(7),
  retentionDays: positiveInt('retention').max(3650).default(60),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Where people reach this service (links in the corrected GBFS and Atom feeds); default: each request's host. */
  publicUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** GBFS feed_contact_email of the corrected feed. */
  feedContactEmail: z.email('must be an e-mail address').optional(),
  /** Tiles for the web map; the map still shows markers on a plain background without them. */
  tileUrl: z.string().default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),
});

export type Config = z.infer<typeof configSchema>;

/** Environment variable for each option: DOCKWATCH_ + upper snake case. */
export const ENV_NAMES: Record<keyof Config, string> = {
  feedUrl: 'DOCKWATCH_FEED_URL',
  systemId: 'DOCKWATCH_SYSTEM_ID',
  language: 'DOCKWATCH_LANGUAGE',
  timezone: 'DOCKWATCH_TIMEZONE',
  pollIntervalSec: 'DOCKWATCH_POLL_INTERVAL_SEC',
  gapSec: 'DOCKWATCH_GAP_SEC',
  database: 'DOCKWATCH_DATABASE',
  host: 'DOCKWATCH_HOST',
  port: 'DOCKWATCH_PORT',
  detector: 'DOCKWATCH_DETECTOR',
  minHistoryDays: 'DOCKWATCH_MIN_HISTORY_DAYS',
  retentionDays: 'DOCKWATCH_RETENTION_DAYS',
  logLevel: 'DOCKWATCH_LOG_LEVEL',
  tileUrl: 'DOCKWATCH_TILE_URL',
  publicUrl: 'DOCKWATCH_PUBLIC_URL',
  feedContactEmail: 'DOCKWATCH_FEED_CONTACT_EMAIL',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Merge defaults < environment < flags and validate. `flags` holds only what the user typed
 * (undefined for the rest). Throws ConfigError listing every problem, with where the value came from.
 */
export function loadConfig(
  flags: Partial<Record<keyof Config, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
  defaults: Partial<Config> = {},
): Config {
  const merged: Record<string, unknown> = { feedUrl: VELIB_GBFS_URL, ...defaults };
  const source: Record<string, string> = {};
  for (const key of Object.keys(ENV_NAMES) as (keyof Config)[]) {
    const envValue = env[ENV_NAMES[key]];
    if (envValue !== undefined && envValue !== '') {
      merged[key] = envValue;
      source[key] = ENV_NAMES[key];
    }
    const flagValue = flags[key];
    if (flagValue !== undefined) {
      merged[key] = flagValue;
      source[key] = `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
    }
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        const from = source[key] ?? 'default';
        return `${from} = ${JSON.stringify(merged[key])}: ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

/** A stable id before anything is fetched: "velib" for the default feed, else from the host name. */
export function defaultSystemId(feedUrl: string): string {
  if (feedUrl === VELIB_GBFS_URL) return 'velib';
  const url = new URL(feedUrl);
  const host =
    url.hostname === '127.0.0.1' || url.hostname === 'localhost' ? `local-${url.port}` : url.hostname;
  return (
    host
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'system'
  );
}
