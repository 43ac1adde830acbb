/**
 * The first days of the real Bay Wheels recording (../shared) through the serverless handlers —
 * the fetch function invoked once per recorded document, polling a feed that serves the archive,
 * over the DynamoDB store (dynalite) — give the same events and state changes as the embedded
 * mode (`replay` over SQLite). Two containers take turns, as Lambda may do, to include cold and
 * stale-warm starts.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredStateChange } from '../../src/storage/index.js';
import { replay } from '../../src/pipeline/index.js';
import { openSqliteStore, openStore, type Store } from '../../src/storage/index.js';
import { repoRoot } from '../../infra/bundle.js';
import { readSlice, serveSlice, writeSlice, type ArchiveSlice } from './archive-feed.js';
import { lambdaContext, scheduledEvent } from './aws-events.js';
import { dynamoUrl, startDynalite, type LocalDynamo } from '../storage/dynamodb-fixture.js';
import { fetchContainer, tempDir, type TempDir } from './fixture.js';

const archive = resolve(repoRoot, '../shared/data/baywheels-2023-04');
const present = existsSync(archive);
if (!present) console.warn(`skipped: ${archive} is absent (the shared Bay Wheels recording)`);

const DAYS = 2;
/** The project's default detector. */
const DETECTOR = 'poisson';
const SYSTEM = 'fgb';
/** Detection starts after one day of history, so that two days hold state changes. */
const MIN_HISTORY_DAYS = '1';

type Comparable = Omit<StoredStateChange, 'id'>;

async function everything(
  store: Store,
): Promise<{ events: unknown[]; changes: Comparable[]; states: unknown[] }> {
  const events = await store.log.read(0, 10_000_000);
  const changes: Comparable[] = [];
  let beforeId: number | undefined;
  for (;;) {
    const page = await store.listStateChanges({
      system: SYSTEM,
      limit: 500,
      ...(beforeId ? { beforeId } : {}),
    });
    for (const { id: _id, ...c } of page) changes.push(c);
    if (page.length < 500) break;
    beforeId = page[page.length - 1]!.id;
  }
  changes.reverse();
  const states = (await store.listDetectedStates(SYSTEM)).sort((a, b) =>
    a.stationId.localeCompare(b.stationId),
  );
  return { events, changes, states };
}

describe.skipIf(!present)(`first ${DAYS} days of Bay Wheels: handlers vs embedded replay`, () => {
  let dir: TempDir;
  let dynamo: LocalDynamo;
  let slice: ArchiveSlice;
  let embedded: Awaited<ReturnType<typeof everything>>;
  let gapThresholdSec: number;

  beforeAll(async () => {
    dir = tempDir('dockwatch-lambda-replay-');
    dynamo = await startDynalite();
    slice = await readSlice(archive, DAYS);
    writeSlice(slice, dir.path);
    const store = openSqliteStore({ path: dir.file('embedded.sqlite') });
    await store.migrate();
    const summary = await replay({
      paths: [dir.path],
      store,
      detector: DETECTOR,
      minHistoryDays: Number(MIN_HISTORY_DAYS),
    });
    expect(summary.system).toBe(SYSTEM);
    gapThresholdSec = summary.gapThresholdSec;
    embedded = await everything(store);
    await store.close();
  }, 300_000);

  afterAll(async () => {
    await dynamo?.close();
    dir?.remove();
  });

  it('same events, same state changes, same final states', async () => {
    expect(embedded.changes.length).toBeGreaterThan(0);
    const feed = await serveSlice(slice);
    const stores: Store[] = [];
    const env = {
      DOCKWATCH_DATABASE: dynamoUrl(dynamo.endpoint, 'replay'),
      DOCKWATCH_FEED_URL: `${feed.url}/gbfs.json`,
      DOCKWATCH_SYSTEM_ID: SYSTEM,
      DOCKWATCH_GAP_SEC: String(gapThresholdSec),
      DOCKWATCH_MIN_HISTORY_DAYS: MIN_HISTORY_DAYS,
      DOCKWATCH_LANGUAGE: 'en',
      DOCKWATCH_DETECTOR: DETECTOR,
    };
    // The function's clock is the recording's: the catalogue's ttl and the feed's timing rules
    // see the time the documents were served at.
    const now = (): number => feed.timeSec() * 1000 + 5_000;
    const containers = [fetchContainer(env, { now, stores }), fetchContainer(env, { now, stores })];
    let storeErrors = 0;
    try {
      for (let i = 0; i < slice.statusTimes.length; i++) {
        feed.moveTo(i);
        // A container change every 100 documents (Lambda replaced the environment, then came back).
        const s = await containers[Math.floor(i / 100) % 2]!(scheduledEvent(now()), lambdaContext());
        storeErrors += s.storeErrors;
      }
      // The embedded replay checkpoints its detector at the end; a function never knows its last run.
      for (const c of containers) await c.runner()?.flush();
    } finally {
      await feed.close();
      for (const s of stores) await s.close();
    }
    expect(storeErrors).toBe(0);
    const store = await openStore(dynamoUrl(dynamo.endpoint, 'replay'));
    const lambda = await everything(store);
    await store.close();

    expect(lambda.events.length).toBe(embedded.events.length);
    expect(lambda.events).toEqual(embedded.events);
    expect(lambda.changes).toEqual(embedded.changes);
    expect(lambda.states).toEqual(embedded.states);
    console.log(
      `${slice.statusTimes.length} documents, ${lambda.events.length} events, ${lambda.changes.length} state changes: identical`,
    );
  }, 600_000);
});
