/**
 * The DynamoDB stream function: fan-out of state changes. Detection itself runs in the scheduled
 * function (see docs/serverless.md, "Where detection runs"); this function only reacts to the
 * state-change items appearing in the table: one structured log line each (CloudWatch metric
 * filters and alarms hang on it) and, when configured, a signed webhook POST per change — the
 * same signature scheme as src/notify, so one receiver serves both deployments.
 *
 * Failures are reported per record (ReportBatchItemFailures): Lambda retries from the first
 * failed record of the shard, so an unreachable webhook delays, never drops, later changes.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { StateChange } from '../detection/index.js';
import type { Logger } from '../log/index.js';
import { postOnce, signPayload } from '../notify/index.js';

export interface StreamHandlerOptions {
  logger: Logger;
  /** The state change an item holds, or null for any other kind of item (events, offsets…). */
  decode: (item: Record<string, unknown>) => StateChange | null;
  webhook?: { url: string; secret: string; allowPrivate?: boolean; timeoutMs?: number };
}

export interface StreamSummary {
  records: number;
  stateChanges: number;
  delivered: number;
  failed: number;
}

export type StreamHandler = ((event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>) & {
  lastSummary(): StreamSummary | null;
};

export function createStreamHandler(opts: StreamHandlerOptions): StreamHandler {
  let last: StreamSummary | null = null;
  const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const summary: StreamSummary = {
      records: event.Records.length,
      stateChanges: 0,
      delivered: 0,
      failed: 0,
    };
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const change = stateChangeOf(record, opts);
      if (change === null) continue;
      summary.stateChanges++;
      opts.logger.info(
        { stateChange: change },
        `state change: ${change.stationId} ${change.from} → ${change.to}`,
      );
      if (!opts.webhook) continue;
      const ok = await deliver(change, opts.webhook, opts.logger);
      if (ok) {
        summary.delivered++;
        continue;
      }
      summary.failed++;
      // Everything from here is retried; earlier records are done.
      failures.push({ itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? '' });
      break;
    }
    last = summary;
    return { batchItemFailures: failures };
  };
  return Object.assign(handler, { lastSummary: () => last });
}

/** Only new items matter: a state change is written once and never updated (TTL removals are REMOVE). */
function stateChangeOf(record: DynamoDBRecord, opts: StreamHandlerOptions): StateChange | null {
  if (record.eventName !== 'INSERT') return null;
  const image = record.dynamodb?.NewImage;
  if (image === undefined) return null;
  try {
    // aws-lambda's AttributeValue and the SDK's describe the same JSON shape.
    return opts.decode(unmarshall(image as Record<string, AttributeValue>));
  } catch (err) {
    // A malformed item is logged and skipped: retrying it would block the shard for nothing.
    opts.logger.warn({ err, eventID: record.eventID }, 'stream: undecodable item skipped');
    return null;
  }
}

async function deliver(
  change: StateChange,
  hook: NonNullable<StreamHandlerOptions['webhook']>,
  logger: Logger,
): Promise<boolean> {
  const body = JSON.stringify({ type: 'state_change', change });
  const ts = Math.floor(Date.now() / 1000);
  const res = await postOnce(hook.url, {
    headers: {
      'content-type': 'application/json',
      'dockwatch-timestamp': ts,
      'dockwatch-signature': signPayload(hook.secret, ts, body),
    },
    body,
    timeoutMs: hook.timeoutMs ?? 5_000,
    allowPrivate: hook.allowPrivate ?? false,
  });
  if (res.error === null) return true;
  logger.warn(
    { status: res.status, err: res.error, station: change.stationId },
    'stream: webhook delivery failed',
  );
  return false;
}
