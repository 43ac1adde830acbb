/**
 * The DynamoDB store (AWS SDK v3): one table, every hot path a Query / GetItem / PutItem /
 * UpdateItem / BatchWriteItem, never a Scan, and no transaction (see keys.ts and
 * docs/serverless.md for the design).
 *
 * URL scheme (openStore):
 *   dynamodb://TABLE[?region=eu-west-3][&endpoint=http://127.0.0.1:8000][&ttlDays=60][&create=1]
 * - TABLE: the table name (created with TTL + stream by migrate() when missing and create=1).
 * - region: default $AWS_REGION, else eu-west-3.
 * - endpoint: a local DynamoDB-compatible server (dynalite, DynamoDB Local). With an endpoint and
 *   no AWS_ACCESS_KEY_ID in the environment, dummy credentials are used (local servers ignore them).
 *   Without an endpoint: AWS, with the default credential chain (a Lambda's role).
 * - ttlDays: retention written into each item's `expiresAt` TTL attribute (default 60; 0 = none).
 * - create: 1 (default) lets migrate() create a missing table; 0 only checks it (the CDK stack
 *   creates the table in AWS, and the functions then need no CreateTable permission).
 *
 * Example: dynamodb://dockwatch?endpoint=http://127.0.0.1:8000&region=eu-west-3
 */
import type { Logger } from '../../log/index.js';
import type { Store } from '../types.js';
import { createClients, parseDynamoUrl, type DynamoLocation } from './connection.js';
import { DynamoStore } from './store.js';

export { parseDynamoUrl, type DynamoLocation, countCommands, type CommandCounter } from './connection.js';
export { TABLE_SCHEMA, tableDefinition } from './keys.js';
export { stateChangeFromItem } from './detection.js';
/** The events a log item (partition LOG) holds, decoded from the item alone (e.g. a stream record). */
export { decodeLogItem as eventsFromLogItem } from './event-log.js';
export { DynamoStore } from './store.js';

export interface DynamoStoreOptions {
  /** dynamodb://TABLE?… (see above), or the parsed location. */
  url: string | DynamoLocation;
  logger?: Logger;
}

/** The DynamoDB store. Call `migrate()` first (openStore() does): it checks (or creates) the table. */
export function openDynamoStore(opts: DynamoStoreOptions): DynamoStore {
  const location = typeof opts.url === 'string' ? parseDynamoUrl(opts.url) : opts.url;
  const clients = createClients(location);
  opts.logger?.debug({ table: location.table, endpoint: location.endpoint }, 'dynamodb store opened');
  return new DynamoStore(clients, location, opts.logger);
}

export type { Store };
