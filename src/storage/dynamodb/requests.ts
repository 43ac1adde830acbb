import {
  BatchGetCommand,
  BatchWriteCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Key } from './keys.js';

/** DynamoDB's limits, per request. */
export const BATCH_WRITE_MAX = 25;
export const BATCH_GET_MAX = 100;
/** An item may take 400 KB with its attribute names; packed payloads stay below this. */
export const ITEM_PAYLOAD_MAX = 350 * 1024;
/** Unprocessed items are retried this many times (with backoff) before giving up. */
const UNPROCESSED_RETRIES = 8;

export type Item = Record<string, unknown>;
export type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1_000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Puts and deletes, 25 per BatchWriteItem; items the server left unprocessed (throttling) are
 * sent again with exponential backoff, as the DynamoDB documentation asks. Not atomic: each item
 * is written or not on its own, so callers only batch writes that are idempotent.
 */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  table: string,
  writes: WriteRequest[],
): Promise<void> {
  for (let i = 0; i < writes.length; i += BATCH_WRITE_MAX) {
    let pending = writes.slice(i, i + BATCH_WRITE_MAX);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > UNPROCESSED_RETRIES)
        throw new Error(
          `DynamoDB left ${pending.length} writes unprocessed after ${UNPROCESSED_RETRIES} retries`,
        );
      if (attempt > 0) await backoff(attempt);
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
    }
  }
}

/** Items by key (missing ones are absent from the result), 100 per BatchGetItem, strongly consistent. */
export async function batchGet(doc: DynamoDBDocumentClient, table: string, keys: Key[]): Promise<Item[]> {
  const out: Item[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    let pending: Key[] = keys.slice(i, i + BATCH_GET_MAX);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > UNPROCESSED_RETRIES)
        throw new Error(
          `DynamoDB left ${pending.length} reads unprocessed after ${UNPROCESSED_RETRIES} retries`,
        );
      if (attempt > 0) await backoff(attempt);
      const res = await doc.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      out.push(...((res.Responses?.[table] ?? []) as Item[]));
      pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
    }
  }
  return out;
}

/**
 * A Query, page after page (a page is at most 1 MB), until the result is exhausted or `want`
 * returns false. Always on one partition key: the store never scans.
 */
export async function queryPages(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
  onPage: (items: Item[]) => boolean | void,
): Promise<void> {
  let start: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new QueryCommand({ ...input, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }),
    );
    if (onPage((res.Items ?? []) as Item[]) === false) return;
    start = res.LastEvaluatedKey;
  } while (start !== undefined);
}

export async function queryAll(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Item[]> {
  const out: Item[] = [];
  await queryPages(doc, input, (items) => {
    out.push(...items);
  });
  return out;
}

/** Binary attributes come back as Uint8Array; the codecs read Buffers. */
export function bytesOf(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new Error(`expected a binary attribute, got ${typeof v}`);
}
