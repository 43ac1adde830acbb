import { gunzipSync, gzipSync } from 'node:zlib';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from './context.js';
import { checkpointChunkKey, checkpointPk, consumerKey, generationSk } from './keys.js';
import { batchWrite, bytesOf, ITEM_PAYLOAD_MAX, queryAll, type WriteRequest } from './requests.js';

/**
 * Detector checkpoints of any size: gzip JSON cut into chunks of one item each (a Vélib' `poisson`
 * checkpoint is ~1.2 MB gzipped, three times what an item holds). A commit writes the chunks of a
 * new generation first; the consumer's item names the live generation (`ckg`, `ckn` chunks, `cko`
 * offset) and is switched by the commit point, a single conditional UpdateItem, in detection.ts.
 * A crash before it leaves stray chunks of an unnamed generation and the old checkpoint whole; the
 * next commit deletes the stray ones and the generation it replaced. Generations come from a
 * counter (UpdateItem ADD), so no two commits ever write the same chunk keys.
 */

/** Bytes of gzip per chunk item: below DynamoDB's 400 KB item limit with the keys and names. */
export const CHUNK_BYTES = ITEM_PAYLOAD_MAX;
/** Reads retried when a concurrent commit replaced the generation between the two reads. */
const READ_ATTEMPTS = 3;

export interface Generation {
  generation: number;
  chunks: number;
}

/** The checkpoint as gzip JSON, cut into chunks; throws (before anything is written) if not JSON. */
export function packCheckpoint(consumer: string, checkpoint: unknown): Buffer[] {
  const json = JSON.stringify(checkpoint) as string | undefined;
  if (json === undefined) throw new Error(`checkpoint of ${consumer} is not JSON-serialisable`);
  const packed = gzipSync(json);
  const out: Buffer[] = [];
  for (let at = 0; at < packed.length; at += CHUNK_BYTES) out.push(packed.subarray(at, at + CHUNK_BYTES));
  return out;
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
  await batchWrite(
    ctx.doc,
    ctx.table,
    chunks.map((ck, i) => ({ PutRequest: { Item: { ...checkpointChunkKey(consumer, generation, i), ck } } })),
  );
}

async function deleteGenerations(ctx: Ctx, consumer: string, from: number, to: number): Promise<void> {
  if (from >= to) return;
  // Keys only, eventually consistent: a stray chunk missed here is found by the next commit.
  const stray = await queryAll(ctx.doc, {
    TableName: ctx.table,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
    ExpressionAttributeValues: {
      ':pk': checkpointPk(consumer),
      ':lo': generationSk(from),
      ':hi': generationSk(to),
    },
    ProjectionExpression: 'pk, sk',
  });
  await batchWrite(
    ctx.doc,
    ctx.table,
    stray.map((k) => ({ DeleteRequest: { Key: { pk: k['pk'] as string, sk: k['sk'] as string } } })),
  );
}

/**
 * After the commit point named `live`: deletes the generation it replaced (by key, its chunk count
 * is known) and any generation below `live` left by a crash (a Query on the key ranges around the
 * replaced one: they are empty, bar a crash). Chunks carry no TTL: the live checkpoint never expires.
 */
export async function deleteReplaced(
  ctx: Ctx,
  consumer: string,
  replaced: Generation | undefined,
  live: number,
): Promise<void> {
  if (replaced === undefined) return deleteGenerations(ctx, consumer, 0, live);
  const writes: WriteRequest[] = [];
  for (let i = 0; i < replaced.chunks; i++)
    writes.push({ DeleteRequest: { Key: checkpointChunkKey(consumer, replaced.generation, i) } });
  await batchWrite(ctx.doc, ctx.table, writes);
  await deleteGenerations(ctx, consumer, 0, replaced.generation);
  await deleteGenerations(ctx, consumer, replaced.generation + 1, live);
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
    const generation = item!['ckg'] as number;
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
      return { offset, state: JSON.parse(gunzipSync(packed).toString('utf8')) };
    }
    if (attempt === READ_ATTEMPTS)
      throw new Error(
        `checkpoint of ${consumer} at offset ${offset} (generation ${generation}) is incomplete: ` +
          `${chunks.length} of ${count} chunks found`,
      );
  }
}
