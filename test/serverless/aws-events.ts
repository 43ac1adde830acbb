/**
 * Real-shaped AWS Lambda events (types from @types/aws-lambda), built the way the services
 * build them (field sets as in the AWS Lambda developer guide's example events for EventBridge
 * scheduled rules, DynamoDB Streams and API Gateway HTTP API payload 2.0).
 */
import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  ScheduledEvent,
} from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-3';

export function scheduledEvent(timeMs: number = Date.now()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date(Math.floor(timeMs / 60_000) * 60_000).toISOString().replace('.000Z', 'Z'),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/dockwatch-fetch-every-minute`],
    detail: {},
  };
}

export function lambdaContext(name = 'dockwatch-fetch', memoryMb = 512): Context {
  const deadline = Date.now() + 55_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `2026/11/25/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

let sequence = 100_000_000_000_000_000_000n;

/**
 * One stream record (view type NEW_IMAGE, as the table is configured): INSERT and MODIFY carry the
 * new item, REMOVE only its keys; a TTL expiry is a REMOVE by the DynamoDB service itself.
 */
export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  item: Record<string, unknown>,
  opts: { keyNames?: readonly string[]; table?: string; ttlExpiry?: boolean } = {},
): DynamoDBRecord {
  const image: Record<string, SdkAttributeValue> = marshall(item, { removeUndefinedValues: true });
  const keys: Record<string, SdkAttributeValue> = {};
  for (const k of opts.keyNames ?? ['pk', 'sk']) if (image[k] !== undefined) keys[k] = image[k];
  sequence += 1n;
  type StreamData = NonNullable<DynamoDBRecord['dynamodb']>;
  const record: DynamoDBRecord = {
    eventID: randomUUID().replace(/-/g, ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      // The SDK's and aws-lambda's AttributeValue describe the same JSON.
      Keys: keys as StreamData['Keys'],
      ...(eventName === 'REMOVE' ? {} : { NewImage: image as StreamData['NewImage'] }),
      SequenceNumber: sequence.toString(),
      SizeBytes: Buffer.byteLength(JSON.stringify(image)),
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${opts.table ?? 'dockwatch'}/stream/2026-11-25T12:00:00.000`,
  };
  if (opts.ttlExpiry) record.userIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };
  return record;
}

export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/**
 * An HTTP request as API Gateway (HTTP API, payload 2.0) hands it to Lambda: lower-case headers,
 * repeated headers joined with commas, cookies apart, the raw query string, decoded parameters,
 * text bodies as is and others base64.
 */
export function httpApiEvent(
  target: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): APIGatewayProxyEventV2 {
  const method = (init.method ?? 'GET').toUpperCase();
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQueryString = q < 0 ? '' : target.slice(q + 1);
  const headers: Record<string, string> = { host: 'abc123.execute-api.eu-west-3.amazonaws.com' };
  let cookies: string[] | undefined;
  for (const [k, v] of Object.entries(init.headers ?? {})) {
    if (k.toLowerCase() === 'cookie') cookies = v.split(/;\s*/);
    else headers[k.toLowerCase()] = v;
  }
  headers['user-agent'] ??= 'dockwatch-test';
  headers['x-forwarded-proto'] = 'https';
  let query: Record<string, string> | undefined;
  if (rawQueryString !== '') {
    query = {};
    for (const [k, v] of new URLSearchParams(rawQueryString))
      query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  }
  const now = Date.now();
  const isText = typeof init.body === 'string';
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: 'ANY /api/v1/{proxy+}',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-3.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: headers['user-agent'],
      },
      requestId: randomUUID(),
      routeKey: 'ANY /api/v1/{proxy+}',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: init.body !== undefined && !isText,
  };
  if (cookies) event.cookies = cookies;
  if (query) event.queryStringParameters = query;
  if (rawPath.startsWith('/api/v1/')) event.pathParameters = { proxy: rawPath.slice('/api/v1/'.length) };
  if (init.body !== undefined)
    event.body = isText ? (init.body as string) : (init.body as Buffer).toString('base64');
  return event;
}

/** The bytes API Gateway sends to the client from a Lambda result. */
export function resultBody(result: APIGatewayProxyStructuredResultV2): Buffer {
  const body = result.body ?? '';
  return Buffer.from(body, result.isBase64Encoded === true ? 'base64' : 'utf8');
}
