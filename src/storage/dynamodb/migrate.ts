import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '../../log/index.js';
import { errorName, isConditionFailed, type DynamoClients, type DynamoLocation } from './connection.js';
import { schemaKey, TABLE_SCHEMA, tableDefinition } from './keys.js';

/**
 * Version of the item layout (keys.ts). Items carry no schema DDL to migrate; a layout change
 * would bump this and convert items in migrate(). A table written by a newer dockwatch is refused.
 */
export const DYNAMO_LAYOUT_VERSION = 1;
const ACTIVE_WAIT_MS = 60_000;

export interface MigrateResult {
  created: boolean;
  /**
   * TTL status after migrate(); 'unsupported' on local servers that lack UpdateTimeToLive
   * (dynalite); 'not checked' with create=0.
   */
  ttl: string;
  stream: boolean;
}

async function describe(clients: DynamoClients, table: string): Promise<TableDescription | null> {
  try {
    return (await clients.client.send(new DescribeTableCommand({ TableName: table }))).Table ?? null;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return null;
    throw err;
  }
}

async function waitActive(clients: DynamoClients, table: string): Promise<TableDescription> {
  const until = Date.now() + ACTIVE_WAIT_MS;
  for (;;) {
    const t = await describe(clients, table);
    if (t?.TableStatus === 'ACTIVE') return t;
    if (Date.now() > until) throw new Error(`table ${table} is not ACTIVE after ${ACTIVE_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Check the table, create it when missing (on-demand capacity, stream of new images, TTL on
 * `expiresAt`) if the URL allows, and record the layout version. Safe at every start and from
 * several processes at once.
 */
export async function migrateTable(
  clients: DynamoClients,
  loc: DynamoLocation,
  logger?: Logger,
): Promise<MigrateResult> {
  let created = false;
  let table = await describe(clients, loc.table);
  if (table === null) {
    if (!loc.create)
      throw new Error(
        `DynamoDB table ${loc.table} does not exist (create=0 in the store URL: the stack creates it)`,
      );
    try {
      await clients.client.send(new CreateTableCommand(tableDefinition(loc.table)));
      created = true;
    } catch (err) {
      if (errorName(err) !== 'ResourceInUseException') throw err; // another process is creating it
    }
  }
  table = await waitActive(clients, loc.table);
  const keys = table.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = keys.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  if (hash !== TABLE_SCHEMA.partitionKey || range !== TABLE_SCHEMA.sortKey)
    throw new Error(
      `DynamoDB table ${loc.table} has keys (${String(hash)}, ${String(range)}), expected (pk, sk): not a dockwatch table`,
    );
  const stream = table.StreamSpecification?.StreamEnabled === true;

  // With create=0 the stack owns the table and its TTL: not even asked (the functions then need
  // no DescribeTimeToLive permission; CDK's grantReadWriteData does not include it).
  let ttl = 'not checked';
  if (loc.create) {
    try {
      const d = await clients.client.send(new DescribeTimeToLiveCommand({ TableName: loc.table }));
      ttl = d.TimeToLiveDescription?.TimeToLiveStatus ?? 'DISABLED';
      if (ttl === 'DISABLED' || ttl === 'DISABLING') {
        await clients.client.send(
          new UpdateTimeToLiveCommand({
            TableName: loc.table,
            TimeToLiveSpecification: { Enabled: true, AttributeName: TABLE_SCHEMA.ttlAttribute },
          }),
        );
        ttl = 'ENABLING';
      }
    } catch (err) {
      if (errorName(err) !== 'UnknownOperationException') throw err;
      ttl = 'unsupported';
    }
  }
  if (ttl === 'unsupported' || !stream)
    logger?.warn(
      { table: loc.table, ttl, stream },
      'this DynamoDB server keeps no TTL or no stream on the table (a local stand-in?); AWS does',
    );

  const stored = (
    await clients.doc.send(new GetCommand({ TableName: loc.table, Key: schemaKey, ConsistentRead: true }))
  ).Item?.['version'] as number | undefined;
  if (stored !== undefined && stored > DYNAMO_LAYOUT_VERSION)
    throw new Error(
      `DynamoDB table ${loc.table} is at layout version ${stored}, newer than this dockwatch knows (${DYNAMO_LAYOUT_VERSION})`,
    );
  if (stored === undefined) {
    try {
      await clients.doc.send(
        new PutCommand({
          TableName: loc.table,
          Item: { ...schemaKey, version: DYNAMO_LAYOUT_VERSION },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
  if (created) logger?.info({ table: loc.table, ttl, stream }, 'DynamoDB table created');
  return { created, ttl, stream };
}

export async function layoutVersion(clients: DynamoClients, table: string): Promise<number> {
  try {
    const item = (
      await clients.doc.send(new GetCommand({ TableName: table, Key: schemaKey, ConsistentRead: true }))
    ).Item;
    return (item?.['version'] as number | undefined) ?? 0;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return 0;
    throw err;
  }
}
