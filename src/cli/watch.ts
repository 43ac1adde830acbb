import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultSystemId, loadConfig, VELIB_GBFS_URL, type Config } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { enableDefaultMetrics } from '../metrics/index.js';
import { WatchService } from '../service/watch-service.js';
import { openStore, sqlitePathOf, type Store } from '../storage/index.js';

/** The built web app, beside dist/ in an installed package or a checkout. */
export function webRoot(): string | undefined {
  const dir = fileURLToPath(new URL('../../web/dist/', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

/** Translates commander's camelCase options into config keys. */
function flagsOf(opts: Record<string, string | undefined>): Partial<Record<keyof Config, unknown>> {
  return {
    feedUrl: opts['feed'],
    systemId: opts['system'],
    language: opts['language'],
    timezone: opts['timezone'],
    pollIntervalSec: opts['pollIntervalSec'],
    gapSec: opts['gapSec'],
    database: opts['database'],
    host: opts['host'],
    port: opts['port'],
    detector: opts['detector'],
    minHistoryDays: opts['minHistoryDays'],
    retentionDays: opts['retentionDays'],
    logLevel: opts['logLevel'],
    tileUrl: opts['tileUrl'],
    publicUrl: opts['publicUrl'],
    feedContactEmail: opts['feedContactEmail'],
  };
}

/**
 * The service's page cache is 4 MiB, not the 16 MiB batch default: after start-up it reads little
 * (the API answers from its snapshot) and the cache's pages stay resident (docs/performance.md §3).
 */
const SERVICE_SQLITE_CACHE_KIB = 4096;

export async function openConfiguredStore(
  database: string,
  logger: Logger,
  opts: { service?: boolean } = {},
): Promise<Store> {
  return openStore(database, {
    logger,
    ...(opts.service ? { sqliteCacheKiB: SERVICE_SQLITE_CACHE_KIB } : {}),
  });
}

/** Stops on the first SIGINT / SIGTERM; a second one exits at once. */
export function onShutdown(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info(`${signal}: stopping (checkpoint saved before exit)`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

export async function runWatch(opts: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(flagsOf(opts));
  const logger = createLogger({ level: config.logLevel });
  enableDefaultMetrics();
  const store = await openConfiguredStore(config.database, logger, { service: true });
  const system = config.systemId ?? defaultSystemId(config.feedUrl);
  // Webhooks and Web Push keep their outbox beside the embedded store (SQLite only for now).
  const notificationsPath = sqlitePathOf(config.database);
  const service = new WatchService({
    store,
    system,
    systemName: config.feedUrl === VELIB_GBFS_URL ? "Vélib' Métropole" : system,
    feedUrl: config.feedUrl,
    language: config.language,
    timeZone: config.timezone,
    pollIntervalSec: config.pollIntervalSec,
    ...(config.gapSec ? { gapThresholdSec: config.gapSec } : {}),
    detector: config.detector,
    minHistoryDays: config.minHistoryDays,
    retentionDays: config.retentionDays,
    logger,
    http: {
      host: config.host,
      port: config.port,
      tileUrl: config.tileUrl,
      ...(webRoot() ? { webRoot: webRoot()! } : {}),
    },
    ...(notificationsPath ? { notificationsDatabase: notificationsPath } : {}),
    publish: {
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      ...(config.feedContactEmail ? { feedContactEmail: config.feedContactEmail } : {}),
    },
  });
  onShutdown(async () => {
    await service.stop();
    await store.close();
  }, logger);
  logger.info({ feed: config.feedUrl, database: config.database }, `watching ${system}`);
  await service.start();
}
