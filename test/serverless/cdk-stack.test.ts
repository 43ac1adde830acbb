/**
 * The CDK stack, synthesised from real esbuild bundles: the CloudFormation template holds the
 * schedule, the table with TTL and stream, the functions with their memory and timeouts, the API
 * routes, the bucket and the distribution with the intended caching. And `npx cdk synth` works
 * offline from the command line, as the docs say.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleLambdas, repoRoot, type BundleResult } from '../../infra/bundle.js';
import { DockwatchStack } from '../../infra/stack.js';
import { tempDir, type TempDir } from './fixture.js';

const run = promisify(execFile);

describe('CDK stack', () => {
  let dir: TempDir;
  let bundles: BundleResult[];
  let template: Template;
  let webDir: string;

  beforeAll(async () => {
    dir = tempDir('dockwatch-cdk-');
    bundles = await bundleLambdas(dir.file('lambda'));
    // A web build's shape: the shell, and content-hashed assets.
    webDir = dir.file('web');
    mkdirSync(path.join(webDir, 'assets'), { recursive: true });
    writeFileSync(
      path.join(webDir, 'index.html'),
      '<!doctype html><script src="/assets/main-4f2a9c.js"></script>',
    );
    writeFileSync(path.join(webDir, 'assets', 'main-4f2a9c.js'), 'console.log(1)');
    const app = new App({ outdir: dir.file('cdk.out') });
    const stack = new DockwatchStack(app, 'Test', {
      env: { region: 'eu-west-3' },
      lambdaDir: dir.file('lambda'),
      webDir,
      feedUrl: 'https://example.org/gbfs.json',
      systemId: 'velib',
      stateChangeWebhook: { url: 'https://hooks.example.org/dockwatch', secret: 'whsec_x' },
    });
    template = Template.fromStack(stack);
  }, 120_000);
  afterAll(() => dir?.remove());

  it('bundles one self-contained ES module per function', () => {
    expect(bundles.map((b) => b.name)).toEqual(['fetch', 'api', 'stream']);
    for (const b of bundles) {
      expect(readFileSync(b.file, 'utf8')).toMatch(/export\s*\{[^}]*handler/);
      // Deployment package limit is 50 MB zipped / 250 MB unzipped; stay far below for cold starts.
      expect(b.bytes).toBeLessThan(8 * 1024 * 1024);
    }
    expect(existsSync(path.join(path.dirname(bundles[1]!.file), 'static', 'index.html'))).toBe(true);
  });

  it('polls every minute, without retries of late events', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });

  it('one on-demand table with pk/sk, TTL on expiresAt and a stream of new images', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      },
    });
  });

  it('three functions with their memory, timeout, runtime and configuration', () => {
    const fns = template.findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x' },
    });
    const byDesc = new Map(
      Object.values(fns).map((r) => {
        const p = (r as { Properties: Record<string, unknown> }).Properties;
        return [String(p['Description']).split(':')[1]!.trim().split(' ')[0], p] as const;
      }),
    );
    expect([...byDesc.keys()].sort()).toEqual(['/api/v1', 'polls', 'state-change']);
    const fetch = byDesc.get('polls')!;
    expect(fetch).toMatchObject({
      MemorySize: 1024,
      Timeout: 55,
      ReservedConcurrentExecutions: 1,
      Architectures: ['arm64'],
    });
    const vars = (fetch['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(vars['DOCKWATCH_FEED_URL']).toBe('https://example.org/gbfs.json');
    expect(JSON.stringify(vars['DOCKWATCH_DATABASE'])).toMatch(/dynamodb:\/\/.*create=0&ttlDays=60/);
    expect(byDesc.get('/api/v1')).toMatchObject({ MemorySize: 1024, Timeout: 10 });
    expect(byDesc.get('state-change')).toMatchObject({ MemorySize: 256, Timeout: 30 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
  });

  it('the stream wakes the fan-out function for new state changes only, with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'LATEST',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: Match.stringLikeRegexp('"SC"') }] },
    });
  });

  it('HTTP API routes /api/v1/* to the API function with payload 2.0, throttled', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${method} /api/v1/{proxy+}` });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('a private bucket behind CloudFront; API cached as its Cache-Control says, assets for a year', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: Match.objectLike({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        CacheBehaviors: [Match.objectLike({ PathPattern: '/api/v1/*', Compress: false })],
        DefaultCacheBehavior: Match.objectLike({
          FunctionAssociations: [Match.objectLike({ EventType: 'viewer-request' })],
        }),
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        MinTTL: 0,
        DefaultTTL: 0,
        MaxTTL: 60,
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          EnableAcceptEncodingBrotli: true,
          EnableAcceptEncodingGzip: true,
          QueryStringsConfig: { QueryStringBehavior: 'all' },
        }),
      }),
    });
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketKeyPrefix: 'assets/',
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionPaths: ['/index.html'],
    });
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: Match.objectLike({
            ContentSecurityPolicy: Match.stringLikeRegexp('img-src .*https://tile.openstreetmap.org'),
          }),
        }),
      }),
    });
  });

  it('`npx cdk synth` works offline from the command line', async () => {
    const out = dir.file('cli.out');
    await run(
      'npx',
      [
        'cdk',
        'synth',
        '--quiet',
        '--output',
        out,
        '-c',
        `lambdaDir=${dir.file('lambda')}`,
        '-c',
        `webDir=${webDir}`,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: '1' },
        timeout: 120_000,
      },
    );
    const t = JSON.parse(readFileSync(path.join(out, 'Dockwatch.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = new Set(Object.values(t.Resources).map((r) => r.Type));
    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::Events::Rule',
      'AWS::ApiGatewayV2::Api',
      'AWS::CloudFront::Distribution',
    ])
      expect(types.has(type), type).toBe(true);
  }, 150_000);
});
