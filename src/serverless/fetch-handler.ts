import type { Context, ScheduledEvent } from 'aws-lambda';
import type { Logger } from '../log/index.js';
import type { Store } from '../storage/index.js';
import type { ServerlessConfig } from './config.js';
import { FetchRunner, type FetchRunnerOptions, type FetchSummary } from './fetch-runner.js';

export interface FetchHandlerOptions {
  config: ServerlessConfig;
  logger: Logger;
  /** Opens the store once per container (DynamoDB in AWS, SQLite in tests). */
  openStore: () => Promise<Store>;
  /** Test hooks (a replayed archive's clock, a short request timeout). */
  runner?: Partial<Pick<FetchRunnerOptions, 'now' | 'requestTimeoutMs'>>;
}

export type FetchHandler = ((event: ScheduledEvent, context?: Context) => Promise<FetchSummary>) & {
  /** The warm container's runner, once created (tests: flush, inspect). */
  runner(): FetchRunner | null;
};

/**
 * The EventBridge-scheduled function (rate 1 minute): one poll of the feed through the whole
 * pipeline per invocation. It resolves even when the feed is down or the input is bad (logged,
 * counted, last good state kept): a rejected promise would make EventBridge retry the invocation
 * and poll twice. Only a store that cannot be opened at all fails the invocation.
 */
export function createFetchHandler(opts: FetchHandlerOptions): FetchHandler {
  let runner: FetchRunner | null = null;
  const { config } = opts;
  const handler = async (event: ScheduledEvent, context?: Context): Promise<FetchSummary> => {
    if (runner === null) {
      const store = await opts.openStore();
      runner = new FetchRunner({
        store,
        system: config.system,
        systemName: config.systemName,
        feedUrl: config.config.feedUrl,
        language: config.config.language,
        timeZone: config.config.timezone,
        pollIntervalSec: config.config.pollIntervalSec,
        gapThresholdSec: config.gapThresholdSec,
        detector: config.config.detector,
        minHistoryDays: config.config.minHistoryDays,
        retentionDays: config.config.retentionDays,
        logger: opts.logger,
        ...opts.runner,
      });
    }
    const summary = await runner.poll();
    const { health, ...rest } = summary;
    opts.logger.info(
      {
        ...rest,
        scheduledAt: event.time,
        requestId: context?.awsRequestId,
        lastDocumentSec: health.lastDocumentSec,
        consecutiveFailures: health.consecutiveFailures,
        stale: health.stale,
      },
      `poll: ${summary.documents} document(s), ${summary.events} events, ${summary.stateChanges} state changes`,
    );
    return summary;
  };
  return Object.assign(handler, { runner: () => runner });
}
