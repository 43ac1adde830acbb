import { gunzipSync, gzipSync } from 'node:zlib';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { joinCheckpoint, splitCheckpoint } from '../codec/index.js';
import type { Ctx } from './context.js';
import { checkpointChunkKey, checkpointPk, consumerKey, expiresAt, generationSk } from './keys.js';
import { batchWrite, bytesOf, ITEM_PAYLOAD_MAX, queryAll } from './requests.js';

/**
 * Detector checkpoints of any size: gzip JSON cut into chunks of one item each (a Vélib' `poisson`
 * checkpoint is ~1.2 MB, over three times what an item holds). A checkpoint with binary parts
 * (codec/checkpoint.ts) is framed (`BINARY_MAGIC`, the gzip JSON's length, the gzip JSON, then the
 * binary bytes as they are: already compact, not gzipped again) and cut the same way; one without
 * is plain gzip JSON as before, told apart by its first bytes (gzip's are 1f 8b). A commit writes the chunks of a
 * new generation first; the consumer's item names the live generation (`ckg`, `ckn` chunks, `cko`
 * offset) and is switched by the commit point, a single conditional UpdateItem, in detection.ts.
 * A crash before it leaves stray chunks of an unnamed generation and the old checkpoint whole.
 * Generations come from a counter (UpdateItem ADD), so no two commits ever write the same keys.
 *
 * Replaced and stray generations expire through TTL (`CHECKPOINT_TTL_DAYS`): a TTL deletion is
 * free, where a DeleteItem costs as many write units as the item's size — deleting each replaced
 * generation would double a checkpoint's cost. The price: the live checkpoint also expires if the
 * detector commits none for that long (the load then fails with a clear error).
 */

/** Bytes of gzip per chunk item: below DynamoDB's 400 KB item limit with the keys and names. */
export const CHUNK_BYTES = ITEM_PAYLOAD_MAX;
/**
 * Chunks expire after this many days, whatever the store's `ttlDays` (the retention of data, not of
 * replaced states): a stopped detector resumes within it; a week of hourly Vélib' checkpoints is
 * ~200 MB before TTL catches up.
 */
export const CHECKPOINT_TTL_DAYS = 7;
/** Reads retried when a concurrent commit replaced the generation between the two reads. */
const READ_ATTEMPTS = 3;

/** First bytes of a framed checkpoint ("DWCB"): never those of gzip. */
const BINARY_MAGIC = Buffer.from('DWCB', 'latin1');

/** The checkpoint's stored bytes, cut into chunks; throws (before anything is written) if not JSON. */
export function packCheckpoint(consumer: string, checkpoint: unknown): Buffer[] {
  const { json, binary } = splitCheckpoint(consumer, checkpoint);
  const packed = binary === null ? gzipSync(json) : frame(gzipSync(json), binary);
  const out: Buffer[] = [];
  for (let at = 0; at < packed.length; at += CHUNK_BYTES) out.push(packed.subarray(at, at + CHUNK_BYTES));
  return out;
}

function frame(gzJson: Buffer, binary: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(BINARY_MAGIC.length + 4);
  BINARY_MAGIC.copy(head, 0);
  head.writeUInt32LE(gzJson.length, BINARY_MAGIC.length);
  return Buffer.concat([head, gzJson, binary]);
}

/** The checkpoint from its stored bytes, framed or plain gzip JSON. */
export function unpackCheckpoint(packed: Buffer): unknown {
  if (packed.length < BINARY_MAGIC.length || !packed.subarray(0, BINARY_MAGIC.length).equals(BINARY_MAGIC))
    return joinCheckpoint(gunzipSync(packed).toString('utf8'), null);
  const start = BINARY_MAGIC.length + 4;
  if (packed.length < start) throw new Error('checkpoint: framed data truncated');
  const end = start + packed.readUInt32LE(BINARY_MAGIC.length);
  if (end > packed.length) throw new Error('checkpoint: framed data truncated');
  return joinCheckpoint(gunzipSync(packed.subarray(start, end)).toString('utf8'), packed.subarray(end));
}

/** A generation number no other commit of this consumer gets (the counter `ckNext` of its item). */
export async function newGeneration(ctx: Ctx, consumer: string): Promise<number> {
  const res = await ctx.doc.send(
    new UpdateCommand({
      TableName: ctx.table,
      Key: consumerKey(consumer),
      UpdateExpression: 'ADD ckNext :one',
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return res.Attributes?.['ckNext'] as number;
}

/** The chunks of a generation not yet named by the consumer's item: BatchWriteItem, 25 a request. */
export async function writeChunks(
  ctx: Ctx,
  consumer: string,
  generation: number,
  chunks: readonly Buffer[],
): Promise<void> {
  const expires = expiresAt(CHECKPOINT_TTL_DAYS, 0);
  await batchWrite(
    ctx.doc,
    ctx.table,
    chunks.map((ck, i) => ({
      PutRequest: { Item: { ...checkpointChunkKey(consumer, generation, i), ck, expiresAt: expires } },
    })),
  );
}

/** The live checkpoint: GetItem of the consumer's item, then a Query of its generation's chunks. */
export async function readCheckpoint(
  ctx: Ctx,
  consumer: string,
): Promise<{ offset: number; state: unknown } | null> {
  for (let attempt = 1; ; attempt++) {
    const item = (
      await ctx.doc.send(
        new GetCommand({
          TableName: ctx.table,
          Key: consumerKey(consumer),
          ConsistentRead: true,
          ProjectionExpression: 'cko, ckg, ckn',
        }),
      )
    ).Item;
    const offset = item?.['cko'] as number | undefined;
    if (offset === undefined) return null;
    const generation: unknown = item!['ckg'];
    if (typeof generation !== 'number')
      throw new Error(
        `checkpoint of ${consumer} at offset ${offset} names no generation: ` +
          'written by a build before checkpoints were chunked (one CK item); commit a new one',
      );
    const count = item!['ckn'] as number;
    const chunks = await queryAll(ctx.doc, {
      TableName: ctx.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :g)',
      ExpressionAttributeValues: { ':pk': checkpointPk(consumer), ':g': `${generationSk(generation)}#` },
      ConsistentRead: true,
    });
    const whole =
      chunks.length === count &&
      chunks.every((c, i) => c['sk'] === checkpointChunkKey(consumer, generation, i).sk);
    if (whole) {
      const packed = Buffer.concat(chunks.map((c) => bytesOf(c['ck'])));
      return { offset, state: unpackCheckpoint(packed) };
    }
    if (attempt === READ_ATTEMPTS)
      throw new Error(
        `checkpoint of ${consumer} at offset ${offset} (generation ${generation}) is incomplete: ` +
          `${chunks.length} of ${count} chunks found (expired: no checkpoint for ${CHECKPOINT_TTL_DAYS} days?)`,
      );
  }
}
