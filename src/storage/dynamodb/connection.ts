import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Where the table is and how items are kept (from a dynamodb:// URL, see index.ts). */
export interface DynamoLocation {
  table: string;
  region: string;
  endpoint?: string;
  /** Days an item is kept through its `expiresAt` TTL attribute; 0 = no TTL attribute. */
  ttlDays: number;
  /** migrate() may create a missing table. */
  create: boolean;
}

export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/** DynamoDB's own rule for table names. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export function parseDynamoUrl(url: string): DynamoLocation {
  const m = /^dynamodb:\/\/([^/?#]*)\/?(?:\?(.*))?$/i.exec(url.trim());
  if (m === null) throw new Error(`invalid DynamoDB store URL ${url}: expected dynamodb://TABLE?region=…`);
  const table = decodeURIComponent(m[1]!);
  if (!TABLE_NAME.test(table))
    throw new Error(`invalid DynamoDB table name "${table}" in ${url}: 3-255 of A-Z a-z 0-9 _ . -`);
  const params = new URLSearchParams(m[2] ?? '');
  const known = new Set(['region', 'endpoint', 'ttlDays', 'create']);
  for (const key of params.keys()) {
    if (!known.has(key))
      throw new Error(
        `unknown parameter "${key}" in DynamoDB store URL: use region, endpoint, ttlDays, create`,
      );
  }
  const ttlText = params.get('ttlDays') ?? '60';
  const ttlDays = Number(ttlText);
  if (!/^\d+$/.test(ttlText) || !Number.isSafeInteger(ttlDays))
    throw new Error(`ttlDays must be a whole number of days (0 = no TTL), got "${ttlText}"`);
  const createText = params.get('create') ?? '1';
  if (createText !== '0' && createText !== '1') throw new Error(`create must be 0 or 1, got "${createText}"`);
  const endpoint = params.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/i.test(endpoint))
    throw new Error(`endpoint must be an http(s) URL, got "${endpoint}"`);
  const region = params.get('region') ?? process.env['AWS_REGION'] ?? 'eu-west-3';
  return {
    table,
    region,
    ttlDays,
    create: createText === '1',
    ...(endpoint !== undefined ? { endpoint } : {}),
  };
}

export function createClients(loc: DynamoLocation): DynamoClients {
  const config: DynamoDBClientConfig = { region: loc.region };
  if (loc.endpoint !== undefined) {
    config.endpoint = loc.endpoint;
    // A local server checks no signature, but the SDK wants credentials to sign with.
    if (process.env['AWS_ACCESS_KEY_ID'] === undefined)
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const client = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc };
}

/** Requests and consumed capacity units, per operation (what the table is billed for). */
export interface CommandCounter {
  /** Requests sent, by operation (GetItem, Query, PutItem…). */
  requests: Record<string, number>;
  /** Capacity units consumed, by operation, as the server reported them (ReturnConsumedCapacity). */
  capacity: Record<string, number>;
  /** The input of the last request of each operation, as sent. */
  last: Record<string, Record<string, unknown>>;
  reset(): void;
}

interface Capacity {
  CapacityUnits?: number;
}

function unitsOf(output: unknown): number {
  const consumed = (output as { ConsumedCapacity?: Capacity | Capacity[] } | undefined)?.ConsumedCapacity;
  if (consumed === undefined) return 0;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

/**
 * Count every request the client sends, and ask the server for the capacity each consumed: a
 * middleware on the client's stack (sees the document client's requests too). For tests (no Scan
 * on hot paths) and for the cost model's measurements.
 */
export function countCommands(client: DynamoDBClient): CommandCounter {
  const counter: CommandCounter = {
    requests: {},
    capacity: {},
    last: {},
    reset() {
      counter.requests = {};
      counter.capacity = {};
      counter.last = {};
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counter.requests[op] = (counter.requests[op] ?? 0) + 1;
      const input = args.input as Record<string, unknown>;
      if (input['TableName'] !== undefined || input['RequestItems'] !== undefined)
        input['ReturnConsumedCapacity'] ??= 'TOTAL';
      counter.last[op] = input;
      const result = await next(args);
      counter.capacity[op] = (counter.capacity[op] ?? 0) + unitsOf(result.output);
      return result;
    },
    { step: 'initialize', name: 'dockwatchCountCommands' },
  );
  return counter;
}

/** The SDK's error name (ConditionalCheckFailedException, ResourceNotFoundException…). */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

export function isConditionFailed(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}
