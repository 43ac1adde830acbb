/**
 * A local DynamoDB-compatible server for the tests: dynalite (DynamoDB's HTTP API over an
 * in-memory LevelDB), started in this process on a free port and spoken to by the real AWS SDK
 * over HTTP. dynalite implements the item, query and batch APIs the store uses; it has no
 * transactions (the store uses none), no TTL and no streams (see dynamodb.test.ts).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { openDynamoStore, type DynamoStore } from '../../src/storage/dynamodb/index.js';

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

const run = randomBytes(3).toString('hex');
let n = 0;
export function uniqueTable(tag = 't'): string {
  return `dockwatch-${run}-${tag}-${++n}`;
}

export function dynamoUrl(endpoint: string, table = uniqueTable(), extra = ''): string {
  return `dynamodb://${table}?endpoint=${encodeURIComponent(endpoint)}&region=eu-west-3${extra}`;
}

/** A store (not migrated) on a table of its own. */
export function freshDynamoStore(endpoint: string, table = uniqueTable()): DynamoStore {
  return openDynamoStore({ url: dynamoUrl(endpoint, table) });
}

export async function dropTable(endpoint: string, table: string): Promise<void> {
  const store = openDynamoStore({ url: dynamoUrl(endpoint, table) });
  try {
    await store.clients.client.send(new DeleteTableCommand({ TableName: table }));
  } catch {
    // already gone
  } finally {
    await store.close();
  }
}
