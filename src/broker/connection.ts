import { connect, type NatsConnection } from '@nats-io/transport-node';
import { silentLogger, type Logger } from '../log/index.js';

export interface NatsConnectOptions {
  /** nats://host:port, or host:port; several separated by commas (a cluster). */
  url: string;
  /** Shown in the server's connection list (`nats server report connections`). */
  name?: string;
  logger?: Logger;
  /**
   * Keep trying when NATS is down at start instead of failing (the collector starts polling and
   * buffers). Default false: fail fast with a clear message.
   */
  waitOnFirstConnect?: boolean;
}

export class NatsUnavailableError extends Error {
  override readonly name = 'NatsUnavailableError';
}

export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Connects with endless reconnection: a NATS restart is an outage to wait out, not a crash.
 * Connection state changes are logged once each (disconnect at warn, reconnect at info).
 */
export async function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  const log = opts.logger ?? silentLogger;
  const servers = natsServers(opts.url);
  if (servers.length === 0)
    throw new NatsUnavailableError('NATS URL is empty: give e.g. nats://127.0.0.1:4222');
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: opts.name ?? 'dockwatch',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Requests (publish acks, API calls) fail after this instead of hanging through an outage.
      timeout: 5_000,
      // Without this the client builds two Error objects (stack traces included) for every
      // request, publish acks included, in case it fails: in `collect` that was ~40 of 290 CPU
      // seconds, plus much of its garbage collection (CPU profile, docs/performance.md §6a).
      noAsyncTraces: true,
      waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    });
  } catch (err) {
    throw new NatsUnavailableError(
      `cannot connect to NATS at ${servers.join(', ')}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') log.warn({ server: s.server }, 'NATS connection lost: reconnecting');
      else if (s.type === 'reconnect') log.info({ server: s.server }, 'NATS connection restored');
    }
  })().catch(() => undefined);
  return nc;
}
