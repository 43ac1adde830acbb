/**
 * The serverless deployment of dockwatch (see docs/serverless.md): one DynamoDB table (TTL +
 * stream), three functions (scheduled fetch, API, stream fan-out), an HTTP API for /api/v1/*, and
 * the web app on S3 behind one CloudFront distribution that also fronts the API.
 *
 * Everything is built from prebuilt files (dist/lambda from `npm run build:lambda`, web/dist from
 * `npm run build`): `cdk synth` needs neither Docker nor the network.
 */
import path from 'node:path';
import {
  Aws,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_apigatewayv2 as apigw,
  aws_apigatewayv2_integrations as integrations,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_logs as logs,
  aws_s3 as s3,
  aws_s3_deployment as s3deploy,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { tileOrigins } from '../src/api/index.js';
import { TABLE_SCHEMA } from '../src/storage/dynamodb/index.js';

export interface DockwatchStackProps extends StackProps {
  /** Folder holding fetch/, api/ and stream/ bundles (dist/lambda). */
  lambdaDir: string;
  /** The built web app (web/dist). */
  webDir: string;
  feedUrl: string;
  systemId: string;
  systemName?: string;
  language?: string;
  /** Poll interval; the schedule runs every max(1, interval/60) minutes. Default 60. */
  pollIntervalSec?: number;
  /** Events and state changes expire (TTL) after this many days. Default 60. */
  retentionDays?: number;
  detector?: string;
  tileUrl?: string;
  fetchMemoryMb?: number;
  apiMemoryMb?: number;
  /**
   * Reserved concurrency 1 for the fetch function, so that two polls never overlap. Accounts
   * whose concurrency quota is the new-account 10 cannot reserve any: set false there (the
   * 55 s timeout and the no-retry schedule keep overlaps out in practice, and the store's
   * conditional appends make one harmless). Default true.
   */
  reserveFetchConcurrency?: boolean;
  /** Signed webhook for every state change (stream function). */
  stateChangeWebhook?: { url: string; secret: string };
  /** Keep the table when the stack is deleted (default true: it holds the learned history). */
  retainData?: boolean;
  logRetention?: logs.RetentionDays;
  runtime?: lambda.Runtime;
}

export class DockwatchStack extends Stack {
  readonly table: dynamodb.Table;
  readonly fetchFunction: lambda.Function;
  readonly apiFunction: lambda.Function;
  readonly streamFunction: lambda.Function;
  readonly httpApi: apigw.HttpApi;
  readonly distribution: cloudfront.Distribution;
  readonly webBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DockwatchStackProps) {
    super(scope, id, props);
    const pollIntervalSec = props.pollIntervalSec ?? 60;
    const retentionDays = props.retentionDays ?? 60;
    // Node.js 20 reached its end of life in April 2026; the bundles target Node 20 syntax and run on 22.
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_22_X;
    const logRetention = props.logRetention ?? logs.RetentionDays.TWO_WEEKS;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      stream: dynamodb.StreamViewType[TABLE_SCHEMA.streamViewType],
      removalPolicy: props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    const env: Record<string, string> = {
      DOCKWATCH_DATABASE: `dynamodb://${this.table.tableName}?region=${Aws.REGION}&create=0&ttlDays=${retentionDays}`,
      DOCKWATCH_FEED_URL: props.feedUrl,
      DOCKWATCH_SYSTEM_ID: props.systemId,
      DOCKWATCH_SYSTEM_NAME: props.systemName ?? props.systemId,
      DOCKWATCH_LANGUAGE: props.language ?? 'fr',
      DOCKWATCH_POLL_INTERVAL_SEC: String(pollIntervalSec),
      DOCKWATCH_RETENTION_DAYS: String(retentionDays),
      ...(props.detector !== undefined ? { DOCKWATCH_DETECTOR: props.detector } : {}),
      ...(props.tileUrl !== undefined ? { DOCKWATCH_TILE_URL: props.tileUrl } : {}),
    };
    const fn = (
      name: string,
      memorySize: number,
      timeout: Duration,
      extra: Partial<lambda.FunctionProps> = {},
    ) =>
      new lambda.Function(this, `${name}Function`, {
        runtime,
        architecture: lambda.Architecture.ARM_64,
        handler: 'index.handler',
        code: lambda.Code.fromAsset(path.join(props.lambdaDir, name.toLowerCase())),
        memorySize,
        timeout,
        environment: env,
        logGroup: new logs.LogGroup(this, `${name}Logs`, {
          retention: logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        ...extra,
      });

    // Scheduled fetch: one poll per invocation, detection in the same run (docs/serverless.md).
    this.fetchFunction = fn('Fetch', props.fetchMemoryMb ?? 1024, Duration.seconds(55), {
      ...(props.reserveFetchConcurrency === false ? {} : { reservedConcurrentExecutions: 1 }),
      description: 'dockwatch: polls the GBFS feed, diffs, learns, detects (every minute)',
    });
    new events.Rule(this, 'EveryMinute', {
      description: 'dockwatch: poll the feed',
      schedule: events.Schedule.rate(Duration.minutes(Math.max(1, Math.round(pollIntervalSec / 60)))),
      // A late or retried poll is worth nothing: the next one comes within a minute.
      targets: [
        new targets.LambdaFunction(this.fetchFunction, {
          retryAttempts: 0,
          maxEventAge: Duration.seconds(60),
        }),
      ],
    });

    this.apiFunction = fn('Api', props.apiMemoryMb ?? 1024, Duration.seconds(10), {
      description: 'dockwatch: /api/v1 behind API Gateway (HTTP API)',
    });

    this.streamFunction = fn('Stream', 256, Duration.seconds(30), {
      description: 'dockwatch: state-change fan-out from the table stream',
      environment: {
        DOCKWATCH_LOG_LEVEL: 'info',
        ...(props.stateChangeWebhook
          ? {
              DOCKWATCH_STATE_CHANGE_WEBHOOK_URL: props.stateChangeWebhook.url,
              DOCKWATCH_STATE_CHANGE_WEBHOOK_SECRET: props.stateChangeWebhook.secret,
            }
          : {}),
      },
    });
    // FilterRule returns `any` (a JSON pattern fragment).
    const isInsert: unknown = lambda.FilterRule.isEqual('INSERT');
    const isStateChange: unknown = lambda.FilterRule.isEqual('SC');
    this.streamFunction.addEventSource(
      new sources.DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        reportBatchItemFailures: true,
        retryAttempts: 10,
        // Only state-change items wake the function (pk "SC"): no invocation per log write.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: isInsert,
            dynamodb: { Keys: { pk: { S: isStateChange } } },
          }),
        ],
      }),
    );

    this.table.grantReadWriteData(this.fetchFunction);
    this.table.grantReadWriteData(this.apiFunction);
    // The store checks the table's TTL setting when it opens.
    for (const f of [this.fetchFunction, this.apiFunction])
      f.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:DescribeTimeToLive'],
          resources: [this.table.tableArn],
        }),
      );

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'dockwatch /api/v1',
      createDefaultStage: false,
    });
    new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      // A ceiling on what abuse can cost; CloudFront absorbs normal traffic.
      throttle: { rateLimit: 50, burstLimit: 100 },
    });
    this.httpApi.addRoutes({
      path: '/api/v1/{proxy+}',
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.HEAD, apigw.HttpMethod.OPTIONS],
      integration: new integrations.HttpLambdaIntegration('ApiIntegration', this.apiFunction, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
    });

    this.webBucket = new s3.Bucket(this, 'WebBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    // API answers carry Cache-Control: half a poll interval, then revalidate (src/api/context.ts).
    const apiCache = new cloudfront.CachePolicy(this, 'ApiCachePolicy', {
      comment: 'dockwatch API: origin Cache-Control, per query string and encoding',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(pollIntervalSec),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingBrotli: true,
      enableAcceptEncodingGzip: true,
    });
    // Client-side routes (/carte, /station/16107…) get the app's shell, as the Fastify server does.
    const spaRouting = new cloudfront.Function(this, 'SpaRouting', {
      comment: 'dockwatch: paths without a file extension serve index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        "function handler(event) { var r = event.request; if (!/\\.[a-z0-9]{1,5}$/i.test(r.uri)) r.uri = '/index.html'; return r; }",
      ),
    });
    const securityHeaders = new cloudfront.ResponseHeadersPolicy(this, 'WebHeaders', {
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy(props.tileUrl),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: false,
          override: true,
        },
      },
    });
    const apiDomain = Fn.select(2, Fn.split('/', this.httpApi.apiEndpoint));
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'dockwatch web app and API',
      defaultRootObject: 'index.html',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.webBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        compress: true,
        functionAssociations: [
          { function: spaRouting, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors: {
        '/api/v1/*': {
          origin: new origins.HttpOrigin(apiDomain, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachePolicy: apiCache,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          // The API compresses itself (brotli at its best quality, once per snapshot).
          compress: false,
        },
      },
    });

    // Hashed assets never change: a year, immutable. Everything else (index.html…): revalidate.
    const assetsDir = path.join(props.webDir, 'assets');
    new s3deploy.BucketDeployment(this, 'WebAssets', {
      sources: [s3deploy.Source.asset(assetsDir)],
      destinationBucket: this.webBucket,
      destinationKeyPrefix: 'assets/',
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
      prune: false,
      memoryLimit: 256,
    });
    new s3deploy.BucketDeployment(this, 'WebShell', {
      sources: [s3deploy.Source.asset(props.webDir, { exclude: ['assets', 'assets/**'] })],
      destinationBucket: this.webBucket,
      cacheControl: [s3deploy.CacheControl.fromString('no-cache')],
      prune: false,
      distribution: this.distribution,
      distributionPaths: ['/index.html'],
      memoryLimit: 256,
    });

    new CfnOutput(this, 'Url', { value: `https://${this.distribution.distributionDomainName}` });
    new CfnOutput(this, 'ApiEndpoint', { value: this.httpApi.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }
}

/** The Fastify server's Content-Security-Policy (src/api/server.ts), for the static site. */
function contentSecurityPolicy(tileUrl: string | undefined): string {
  const tiles = tileOrigins(tileUrl ?? 'https://tile.openstreetmap.org/{z}/{x}/{y}.png');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data: blob:", ...tiles].join(' '),
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
