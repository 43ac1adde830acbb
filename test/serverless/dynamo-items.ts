/**
 * Items exactly as the DynamoDB store writes them: state changes and a few other kinds, written
 * through the real store into dynalite and read back raw with the AWS SDK — what the table's
 * stream carries as NewImage.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { StateChange } from '../../src/detection/index.js';
import { openStore } from '../../src/storage/index.js';
import { dynamoUrl, startDynalite } from '../storage/dynamodb-fixture.js';

export async function stateChangeItems(): Promise<{
  changes: Record<string, unknown>[];
  others: Record<string, unknown>[];
}> {
  const dynamo = await startDynalite();
  try {
    const store = await openStore(dynamoUrl(dynamo.endpoint, 'items'));
    const t0 = 1_760_000_000;
    await store.upsertSystem({
      id: 'velib',
      name: 'Vélib',
      feedUrl: 'http://x/gbfs.json',
      timezone: 'Europe/Paris',
    });
    await store.log.append([
      { type: 'snapshot', system: 'velib', timeSec: t0, stations: 2, intervalSec: null },
    ]);
    const change = (i: number, to: StateChange['to']): StateChange => ({
      system: 'velib',
      stationId: `1600${i}`,
      timeSec: t0 + 60 * i,
      from: to === 'ok' ? 'locked' : 'ok',
      to,
      detector: 'seed',
      confidence: 0.9,
      reason: to === 'ok' ? 'activity_resumed' : 'missing_activity',
      evidence: to === 'ok' ? null : { expected: 6, observed: 0, inactiveSec: 5400 },
      offset: 10 + i,
    });
    await store.commitDetection(
      'detector:velib:seed',
      13,
      [change(1, 'locked'), change(2, 'locked'), change(3, 'ok')],
      {
        version: 1,
      },
    );
    await store.close();
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: 'eu-west-3',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const query = async (pk: string) =>
      ((
        await doc.send(
          new QueryCommand({
            TableName: 'items',
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
          }),
        )
      ).Items ?? []) as Record<string, unknown>[];
    const changes = await query('SC');
    const others = [...(await query('LOG')), ...(await query('C')), ...(await query('META'))];
    doc.destroy();
    return { changes, others };
  } finally {
    await dynamo.close();
  }
}
