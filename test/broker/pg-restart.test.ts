/**
 * The PostgreSQL store under a real server restart (`pg_ctlcluster … restart`): calls fail with
 * StoreUnavailableError while it is down, the same store works again after, and the log holds
 * exactly what an uninterrupted writer would have written (nothing lost, nothing doubled). In the
 * serial broker run because a restart drops every other suite's connections; needs root (CI).
 * The pipeline-level restart (collector + worker vs the embedded run) is in faults.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/events/types.js';
import { eventKey } from '../../src/events/types.js';
import { openPostgresStore, StoreUnavailableError } from '../../src/storage/postgres/index.js';
import { rented } from '../storage/contract.js';
import { dropSchema, PG_URL, pgUnreachableReason, uniqueSchema } from '../storage/postgres-fixture.js';
import { waitFor } from './fixture.js';
import { canRestartPg, pgCluster } from './services.js';

/** One document: a snapshot plus `n` rentals at distinct stations. */
function doc(timeSec: number, n: number): FeedEvent[] {
  const events: FeedEvent[] = [{ system: 'velib', timeSec, type: 'snapshot', stations: n, intervalSec: 60 }];
  for (let i = 0; i < n; i++) events.push(rented(`s${i}`, timeSec, 1, 'velib'));
  return events;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canRestartPg)('PostgreSQL restarted under a writing store', () => {
  it('a clear error while it is down, then the same store works again; nothing lost, nothing doubled', async () => {
    const schema = uniqueSchema('restart');
    const store = openPostgresStore({ url: PG_URL, schema });
    await store.migrate();
    // A producer appends a document every ~20 ms and retries a failed one, as the pipeline does.
    const errors: unknown[] = [];
    let timeSec = 100;
    let stop = false;
    const writing = (async () => {
      while (!stop) {
        try {
          await store.log.append(doc(timeSec, 2));
          timeSec += 60;
          await sleep(20);
        } catch (err) {
          errors.push(err);
          await sleep(100);
        }
      }
    })();
    try {
      await sleep(300);
      pgCluster('restart');
      await waitFor(
        'PostgreSQL to answer again',
        async () => (await pgUnreachableReason()) === null,
        30_000,
        100,
      );
      const before = timeSec;
      await waitFor('five more documents after the restart', () => timeSec >= before + 5 * 60, 30_000, 50);
      stop = true;
      await writing;
      expect(errors.length).toBeGreaterThan(0);
      for (const err of errors) expect(err).toBeInstanceOf(StoreUnavailableError);
      // What an uninterrupted writer of the same documents leaves: offsets 1…3n, each event once.
      const docs = (timeSec - 100) / 60;
      const all = await store.log.read(0, 10_000);
      expect(all.map((e) => e.offset)).toEqual(Array.from({ length: docs * 3 }, (_, i) => i + 1));
      expect(all.map(eventKey)).toEqual(
        Array.from({ length: docs }, (_, i) => doc(100 + i * 60, 2))
          .flat()
          .map(eventKey),
      );
    } finally {
      stop = true;
      await writing;
      // Leave the server running for everything after this test.
      if ((await pgUnreachableReason()) !== null) pgCluster('start');
      await waitFor('PostgreSQL to be up', async () => (await pgUnreachableReason()) === null, 30_000, 100);
      await store.close();
      await dropSchema(schema);
    }
  }, 90_000);
});
