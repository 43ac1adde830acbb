/**
 * The esbuild bundles as Lambda runs them: each dist/lambda/<function>/index.mjs imported by a
 * fresh Node process with only its DOCKWATCH_* environment, its `handler` invoked with a
 * real-shaped event — the fetch bundle polls the simulator into DynamoDB (dynalite), the API
 * bundle answers from that table, the stream bundle takes a batch. Catches what only a bundle
 * breaks (a dependency reading files next to itself, a CommonJS module needing require()).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleLambdas } from '../../infra/bundle.js';
import { startSimulator, type SimulatorHandle } from '../../src/sim/index.js';
import { dynamoUrl, startDynalite, type LocalDynamo } from '../storage/dynamodb-fixture.js';
import { httpApiEvent, lambdaContext, scheduledEvent, streamEvent } from './aws-events.js';
import { tempDir, type TempDir } from './fixture.js';

const run = promisify(execFile);

describe('Lambda bundles, run as Lambda runs them', () => {
  let dir: TempDir;
  let dynamo: LocalDynamo;
  let sim: SimulatorHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = tempDir('dockwatch-bundles-');
    await bundleLambdas(dir.file('lambda'));
    dynamo = await startDynalite();
    sim = await startSimulator({ seed: 'bundle', stations: { synthetic: { count: 30 } }, speed: 0 });
    env = {
      PATH: process.env['PATH'] ?? '',
      DOCKWATCH_DATABASE: dynamoUrl(dynamo.endpoint, 'bundles'),
      DOCKWATCH_FEED_URL: `${sim.url}/gbfs.json`,
      DOCKWATCH_SYSTEM_ID: 'bundle',
      DOCKWATCH_LOG_LEVEL: 'warn',
      AWS_REGION: 'eu-west-3',
    };
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await dynamo?.close();
    dir?.remove();
  });

  /** Imports the bundle in a new process and prints the handler's result as JSON. */
  async function invoke(fn: string, event: unknown): Promise<unknown> {
    const file = path.join(dir.file('lambda'), fn, 'index.mjs');
    const script = `const { handler } = await import(${JSON.stringify(file)});
const result = await handler(JSON.parse(process.argv[1]), JSON.parse(process.argv[2]));
process.stdout.write('\\n@@' + JSON.stringify(result));`;
    // Asynchronous: the simulator and dynalite answer from this process meanwhile.
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify(event), JSON.stringify(lambdaContext(fn))],
      { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return JSON.parse(stdout.slice(stdout.lastIndexOf('\n@@') + 3)) as unknown;
  }

  it('fetch, then API, then stream', async () => {
    const summary = (await invoke('fetch', scheduledEvent())) as { documents: number; events: number };
    expect(summary.documents).toBe(1);
    expect(summary.events).toBeGreaterThanOrEqual(30);

    const res = (await invoke(
      'api',
      httpApiEvent('/api/v1/stations', { headers: { 'accept-encoding': 'br' } }),
    )) as {
      statusCode: number;
      headers: Record<string, string>;
      isBase64Encoded: boolean;
      body: string;
    };
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.isBase64Encoded).toBe(true);
    const docs = (await invoke('api', httpApiEvent('/api/v1/systems'))) as {
      statusCode: number;
      body: string;
    };
    expect(docs.statusCode).toBe(200);
    expect((JSON.parse(docs.body) as { systems: { id: string }[] }).systems.map((s) => s.id)).toContain(
      'bundle',
    );

    expect(await invoke('stream', streamEvent([]))).toEqual({ batchItemFailures: [] });
  }, 180_000);
});
