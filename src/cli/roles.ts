/**
 * The scale-out roles: `dockwatch collect`, `dockwatch process`, `dockwatch serve`. Thin, over
 * src/service and src/broker; main.ts wires them into commander. Options are commander's
 * camelCase strings; each falls back to a DOCKWATCH_* variable.
 */
import { createApiServer, createLiveBus } from '../api/index.js';
import { connectNats, DEFAULT_EVENTS_STREAM, openJetStreamLog, type JetStreamLog } from '../broker/index.js';
import { loadConfig, type Config } from '../config/index.js';
import { loadSystemsFile } from '../config/systems-file.js';
import { createLogger, type Logger } from '../log/index.js';
import { enableDefaultMetrics } from '../metrics/index.js';
import { startMetricsServer } from '../metrics/server.js';
import { CollectService } from '../service/collect-service.js';
import { ProcessService } from '../service/process-service.js';
import { openStore, type Store } from '../storage/index.js';
import { onShutdown, webRoot } from './watch.js';

export type RoleOptions = Record<string, string | undefined>;

/** What a started role gives back: tests stop it in-process; the CLI stops it on SIGTERM. */
export interface RunningRole {
  stop(): Promise<void>;
  /** Base URL of the /metrics listener of `collect` / `process`, when one was asked for. */
  metricsUrl?: string;
}

/**
 * `--metrics-port` / DOCKWATCH_METRICS_PORT: a /metrics listener for the roles without the API.
 * Off by default (several workers on one host would fight over a fixed port); 0 = any free port.
 */
function metricsListen(opts: RoleOptions): { host: string; port: number } | null {
  const raw = opts['metricsPort'] ?? env('DOCKWATCH_METRICS_PORT');
  if (raw === undefined) return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--metrics-port must be a port number 0..65535, got ${JSON.stringify(raw)}`);
  return { host: opts['metricsHost'] ?? env('DOCKWATCH_METRICS_HOST') ?? '127.0.0.1', port };
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

function baseConfig(opts: RoleOptions): Config {
  return loadConfig({
    database:
      opts['database'] ??
      (env('DOCKWATCH_DATABASE') === undefined ? env('DOCKWATCH_DATABASE_URL') : undefined),
    detector: opts['detector'],
    minHistoryDays: opts['minHistoryDays'],
    logLevel: opts['logLevel'],
    host: opts['host'],
    port: opts['port'],
    tileUrl: opts['tileUrl'],
    language: opts['language'],
    systemId: opts['system'],
  });
}

function natsOptions(opts: RoleOptions): { url: string; stream: string } {
  return {
    url: opts['natsUrl'] ?? env('DOCKWATCH_NATS_URL') ?? 'nats://127.0.0.1:4222',
    stream: opts['stream'] ?? env('DOCKWATCH_NATS_STREAM') ?? DEFAULT_EVENTS_STREAM,
  };
}

function positive(value: string | undefined, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${what} must be a number > 0, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Opens the JetStream log, retrying while NATS is down (a supervisor starting everything at once
 * must not see the collector die because NATS was a second late).
 */
async function openLogPatiently(
  opts: RoleOptions,
  logger: Logger,
  retentionDays: number,
): Promise<JetStreamLog> {
  const { url, stream } = natsOptions(opts);
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await connectNats({ url, name: `dockwatch-${opts['role'] ?? 'role'}`, logger });
      try {
        // Events older than the retention go from the stream as they go from the store.
        return await openJetStreamLog({ connection, stream, logger, maxAgeSec: retentionDays * 86_400 });
      } catch (err) {
        await connection.close();
        throw err;
      }
    } catch (err) {
      if (attempt === 1 || attempt % 10 === 0) {
        logger.warn(
          { err: err instanceof Error ? err.message : String(err), attempt },
          `NATS JetStream at ${url} not ready: retrying`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5_000)));
    }
  }
}

async function withStore<T>(
  config: Config,
  logger: Logger,
  extra: { poolSize?: number },
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(config.database, { logger, ...extra });
  try {
    return await fn(store);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * Starts the /metrics endpoint, then the service; stop() closes them, then the log and the store.
 * The endpoint first: a taken port stops the start before any work begins.
 */
async function startWithMetrics(
  service: { start(): Promise<void>; stop(): Promise<void> },
  deps: { listen: ReturnType<typeof metricsListen>; logger: Logger; log: JetStreamLog; store: Store },
): Promise<RunningRole> {
  const { listen, logger, log, store } = deps;
  const metricsServer = listen ? await startMetricsServer({ ...listen, logger }) : null;
  try {
    await service.start();
  } catch (err) {
    await metricsServer?.close();
    throw err;
  }
  return {
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    stop: async () => {
      await metricsServer?.close();
      await service.stop();
      await log.close();
      await store.close();
    },
  };
}

export async function startCollect(opts: RoleOptions): Promise<RunningRole> {
  const config = baseConfig(opts);
  const logger = createLogger({ level: config.logLevel });
  const listen = metricsListen(opts);
  const file = opts['systems'] ?? env('DOCKWATCH_SYSTEMS_FILE');
  if (file === undefined)
    throw new Error('collect needs --systems FILE (or DOCKWATCH_SYSTEMS_FILE): the systems to watch');
  const systems = loadSystemsFile(file);
  // One connection per ten systems (5 to 20): 200 systems' collectors share the pool; a write
  // waits its turn for a connection (PgContext's gate) rather than failing (docs/performance.md §6a).
  const poolSize = Math.min(20, Math.max(5, Math.ceil(systems.length / 10)));
  return withStore(config, logger, { poolSize }, async (store) => {
    const log = await openLogPatiently({ ...opts, role: 'collect' }, logger, config.retentionDays);
    const service = new CollectService({
      store,
      log,
      systems,
      logger,
      retentionDays: config.retentionDays,
      maxBufferedDocuments: positive(opts['maxBufferedDocuments'], '--max-buffered-documents', 120),
    });
    return startWithMetrics(service, { listen, logger, log, store });
  });
}

export async function startProcess(opts: RoleOptions): Promise<RunningRole> {
  const config = baseConfig(opts);
  const logger = createLogger({ level: config.logLevel });
  const listen = metricsListen(opts);
  const only = opts['systems'] ?? undefined;
  return withStore(config, logger, {}, async (store) => {
    const log = await openLogPatiently({ ...opts, role: 'process' }, logger, config.retentionDays);
    const service = new ProcessService({
      store,
      log,
      logger,
      detector: config.detector,
      minHistoryDays: config.minHistoryDays,
      leaseTtlMs: positive(opts['leaseTtlSec'], '--lease-ttl-sec', 15) * 1000,
      ...(opts['workerId'] ? { workerId: opts['workerId'] } : {}),
      ...(opts['group'] ? { group: opts['group'] } : {}),
      ...(opts['checkpointEvery']
        ? { checkpointEverySnapshots: positive(opts['checkpointEvery'], '--checkpoint-every', 60) }
        : {}),
      ...(only !== undefined ? { systems: loadSystemsFile(only).map((s) => s.id) } : {}),
    });
    return startWithMetrics(service, { listen, logger, log, store });
  });
}

/**
 * `serve`: the API and web app over the Store, stateless (run N behind a load balancer). Every
 * system of the Store is served at /api/v1/systems/:id/…; `--system` (else the first by id) is
 * also served at the unprefixed routes.
 */
export async function startServe(opts: RoleOptions): Promise<RunningRole & { url: string }> {
  const config = baseConfig(opts);
  const logger = createLogger({ level: config.logLevel });
  return withStore(config, logger, {}, async (store) => {
    const systems = await store.listSystems();
    const record = config.systemId
      ? systems.find((s) => s.id === config.systemId)
      : systems.sort((a, b) => a.id.localeCompare(b.id))[0];
    if (record === undefined) {
      throw new Error(
        config.systemId
          ? `system ${config.systemId} is not in the store: known ${systems.map((s) => s.id).join(', ') || 'none'}`
          : 'no system in the store yet: start `dockwatch collect` first',
      );
    }
    const root = webRoot();
    const api = await createApiServer({
      store,
      systemId: record.id,
      timezone: record.timezone,
      pollIntervalSec: positive(opts['pollIntervalSec'], '--poll-interval-sec', 60),
      live: createLiveBus(),
      // No pipeline here: every system's picture is refreshed from the store.
      refreshFromStore: true,
      logger,
      tileUrl: config.tileUrl,
      language: config.language,
      ...(root ? { webRoot: root } : {}),
    });
    const url = await api.listen({ host: config.host, port: config.port });
    logger.info({ url, system: record.id }, `API and web app at ${url}`);
    return {
      url,
      stop: async () => {
        await api.close();
        await store.close();
      },
    };
  });
}

async function runRole(start: (o: RoleOptions) => Promise<RunningRole>, opts: RoleOptions): Promise<void> {
  const logger = createLogger({ level: opts['logLevel'] ?? env('DOCKWATCH_LOG_LEVEL') ?? 'info' });
  enableDefaultMetrics();
  const role = await start(opts);
  onShutdown(() => role.stop(), logger);
}

export const runCollect = (opts: RoleOptions): Promise<void> => runRole(startCollect, opts);
export const runProcess = (opts: RoleOptions): Promise<void> => runRole(startProcess, opts);
export const runServe = (opts: RoleOptions): Promise<void> => runRole(startServe, opts);
