/**
 * The DynamoDB stream function, invoked with real-shaped DynamoDBStreamEvent batches of the
 * table's items: state changes are picked out of everything else the table writes, delivered as
 * signed webhooks, and a failed delivery is reported so that Lambda retries from that record.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateChange } from '../../src/detection/index.js';
import { silentLogger } from '../../src/log/index.js';
import { verifySignature } from '../../src/notify/index.js';
import { createStreamHandler } from '../../src/serverless/index.js';
import { stateChangeFromItem } from '../../src/storage/dynamodb/index.js';
import { streamEvent, streamRecord } from './aws-events.js';
import { stateChangeItems } from './dynamo-items.js';

const SECRET = 'whsec_test';

interface Received {
  body: { type: string; change: StateChange };
  signed: boolean;
}

describe('stream function: state-change fan-out', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  /** Answer 500 to the next N deliveries. */
  let failNext = 0;
  let items: { changes: Record<string, unknown>[]; others: Record<string, unknown>[] };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end();
          return;
        }
        const body = Buffer.concat(chunks).toString();
        received.push({
          body: JSON.parse(body) as Received['body'],
          signed: verifySignature({
            secret: SECRET,
            body,
            timestampHeader: req.headers['dockwatch-timestamp'] as string,
            signatureHeader: req.headers['dockwatch-signature'] as string,
            nowSec: Math.floor(Date.now() / 1000),
          }),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    items = await stateChangeItems();
  }, 60_000);
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const handler = (withHook: boolean) =>
    createStreamHandler({
      logger: silentLogger,
      decode: stateChangeFromItem,
      ...(withHook ? { webhook: { url, secret: SECRET, allowPrivate: true, timeoutMs: 2_000 } } : {}),
    });

  it('picks state changes out of a batch of every kind of item and record', async () => {
    expect(items.changes.length).toBeGreaterThanOrEqual(3);
    const records: DynamoDBRecord[] = [
      ...items.others.map((i) => streamRecord('INSERT', i)),
      streamRecord('INSERT', items.changes[0]!),
      ...items.others.map((i) => streamRecord('MODIFY', i)),
      // A state change expiring (TTL) is no news.
      streamRecord('REMOVE', items.changes[1]!, { ttlExpiry: true }),
    ];
    const h = handler(false);
    const res = await h(streamEvent(records));
    expect(res.batchItemFailures).toEqual([]);
    expect(h.lastSummary()).toEqual({ records: records.length, stateChanges: 1, delivered: 0, failed: 0 });
  });

  it('delivers each change as a signed webhook, in stream order', async () => {
    received.length = 0;
    const res = await handler(true)(streamEvent(items.changes.map((i) => streamRecord('INSERT', i))));
    expect(res.batchItemFailures).toEqual([]);
    expect(received).toHaveLength(items.changes.length);
    expect(received.every((r) => r.signed)).toBe(true);
    const expected = items.changes.map((i) => stateChangeFromItem(i)!);
    expect(received.map((r) => r.body.change)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(received[0]!.body.type).toBe('state_change');
  });

  it('a failed delivery stops the batch there and is retried from that record', async () => {
    received.length = 0;
    const records = items.changes.map((i) => streamRecord('INSERT', i));
    const h = handler(true);
    // The first change goes through, the second fails: the rest must wait for the retry.
    const first = await h(streamEvent(records.slice(0, 1)));
    expect(first.batchItemFailures).toEqual([]);
    failNext = 1;
    const res = await h(streamEvent(records.slice(1)));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }]);
    expect(h.lastSummary()).toMatchObject({ delivered: 0, failed: 1 });
    // Lambda re-sends the batch from the failed record.
    const retry = await h(streamEvent(records.slice(1)));
    expect(retry.batchItemFailures).toEqual([]);
    expect(received.map((r) => r.body.change.offset)).toEqual(
      items.changes.map((i) => stateChangeFromItem(i)!.offset),
    );
  });

  it('an undecodable item is skipped, not retried forever', async () => {
    const bad = { ...items.changes[0]!, ev: '{not json' };
    const h = handler(false);
    const res = await h(
      streamEvent([streamRecord('INSERT', bad), streamRecord('INSERT', items.changes[1]!)]),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(h.lastSummary()).toMatchObject({ stateChanges: 1 });
  });
});
