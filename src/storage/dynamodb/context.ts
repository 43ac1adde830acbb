import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What every module of the adapter needs: the client, the table, the TTL of the items. */
export interface Ctx {
  doc: DynamoDBDocumentClient;
  table: string;
  ttlDays: number;
}
