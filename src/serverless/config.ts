/**
 * Configuration of the Lambda functions: the same DOCKWATCH_* variables as `dockwatch watch`
 * (validated by the same schema), set on each function by the CDK stack. `DOCKWATCH_DATABASE` is a
 * store URL (`dynamodb://TABLE?region=…` in AWS; a SQLite path in tests).
 */
import { ConfigError, defaultSystemId, loadConfig, type Config } from '../config/index.js';

export interface ServerlessConfig {
  config: Config;
  storeUrl: string;
  system: string;
  systemName: string;
  /** Blind after this much document time without a document (feed_gap). */
  gapThresholdSec: number;
}

export function serverlessConfig(env: NodeJS.ProcessEnv = process.env): ServerlessConfig {
  const config = loadConfig({}, env);
  const storeUrl = env['DOCKWATCH_DATABASE'];
  if (storeUrl === undefined || storeUrl === '')
    throw new ConfigError(['DOCKWATCH_DATABASE is not set: give the store URL (dynamodb://TABLE?region=…)']);
  const system = config.systemId ?? defaultSystemId(config.feedUrl);
  return {
    config,
    storeUrl,
    system,
    systemName: env['DOCKWATCH_SYSTEM_NAME'] ?? system,
    gapThresholdSec: config.gapSec ?? 3 * config.pollIntervalSec,
  };
}
