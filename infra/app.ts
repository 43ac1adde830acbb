/**
 * CDK app: `npx cdk synth` / `npx cdk deploy` (see docs/serverless.md). Settings come from CDK
 * context (`-c feedUrl=… -c systemId=…`, or cdk.json's "context").
 */
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { DEFAULT_LAMBDA_DIR, repoRoot } from './bundle.js';
import { DockwatchStack } from './stack.js';

const app = new App();
const ctx = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  if (typeof v === 'string') return v === '' ? undefined : v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
};
const num = (key: string): number | undefined => (ctx(key) === undefined ? undefined : Number(ctx(key)));
const webhookUrl = ctx('stateChangeWebhookUrl');
const webhookSecret = ctx('stateChangeWebhookSecret');

new DockwatchStack(app, ctx('stackName') ?? 'Dockwatch', {
  env: {
    account: process.env['CDK_DEFAULT_ACCOUNT'],
    region: ctx('region') ?? process.env['CDK_DEFAULT_REGION'] ?? 'eu-west-3',
  },
  lambdaDir: ctx('lambdaDir') ?? DEFAULT_LAMBDA_DIR,
  webDir: ctx('webDir') ?? path.join(repoRoot, 'web', 'dist'),
  feedUrl:
    ctx('feedUrl') ?? 'https://velib-metropole-opendata.smovengo.cloud/opendata/Velib_Metropole/gbfs.json',
  systemId: ctx('systemId') ?? 'velib',
  systemName: ctx('systemName') ?? 'Vélib’ Métropole',
  ...(num('pollIntervalSec') !== undefined ? { pollIntervalSec: num('pollIntervalSec')! } : {}),
  ...(num('retentionDays') !== undefined ? { retentionDays: num('retentionDays')! } : {}),
  ...(num('fetchMemoryMb') !== undefined ? { fetchMemoryMb: num('fetchMemoryMb')! } : {}),
  ...(num('apiMemoryMb') !== undefined ? { apiMemoryMb: num('apiMemoryMb')! } : {}),
  ...(ctx('detector') !== undefined ? { detector: ctx('detector')! } : {}),
  ...(ctx('tileUrl') !== undefined ? { tileUrl: ctx('tileUrl')! } : {}),
  ...(ctx('reserveFetchConcurrency') === 'false' ? { reserveFetchConcurrency: false } : {}),
  ...(ctx('retainData') === 'false' ? { retainData: false } : {}),
  ...(webhookUrl && webhookSecret ? { stateChangeWebhook: { url: webhookUrl, secret: webhookSecret } } : {}),
});
