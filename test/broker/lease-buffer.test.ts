/** Leases (compare-and-set, expiry, rendezvous) and the collector's bounded buffer, on the real NATS. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LeaseTable,
  openJetStreamLog,
  SnapshotLog,
  SystemCollector,
  type JetStreamLog,
} from '../../src/broker/index.js';
import { openSqliteStore } from '../../src/storage/index.js';
import { GAP_SEC, makeCity, streamEvents, waitFor } from './fixture.js';
import { NATS_URL, natsUp, uniqueStream } from './nats.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-lease-'));
const logs: JetStreamLog[] = [];
afterAll(async () => {
  for (const log of logs) {
    await log.destroy();
    await log.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

async function freshLog(tag: string): Promise<JetStreamLog> {
  const log = await openJetStreamLog({ url: NATS_URL, stream: uniqueStream(tag) });
  logs.push(log);
  return log;
}

describe('rendezvous owner', () => {
  it('is the same for every caller, spreads systems, and moves only the systems of a leaving worker', () => {
    const systems = Array.from({ length: 300 }, (_, i) => `sys-${i}`);
    const three = ['w1', 'w2', 'w3'];
    const before = new Map(systems.map((s) => [s, LeaseTable.preferredOwner(s, three)]));
    const counts = new Map<string, number>();
    for (const o of before.values()) counts.set(o!, (counts.get(o!) ?? 0) + 1);
    for (const w of three) expect(counts.get(w)).toBeGreaterThan(60);
    expect(LeaseTable.preferredOwner('sys-1', ['w3', 'w1', 'w2'])).toBe(before.get('sys-1'));
    for (const s of systems) {
      const after = LeaseTable.preferredOwner(s, ['w1', 'w3']);
      if (before.get(s) !== 'w2') expect(after).toBe(before.get(s));
    }
    expect(LeaseTable.preferredOwner('x', [])).toBeNull();
  });
});

describe.skipIf(!natsUp)('leases on JetStream', () => {
  it('one winner; renew keeps it; expiry or release lets another take it; the loser of a race learns it', async () => {
    const log = await freshLog('LEASE');
    const a = await LeaseTable.open(log, { group: 'g', workerId: 'a', ttlMs: 1_000 });
    const b = await LeaseTable.open(log, { group: 'g', workerId: 'b', ttlMs: 1_000 });
    const la = await a.acquire('velib');
    expect(la).not.toBeNull();
    expect(await b.acquire('velib')).toBeNull();
    const renewed = await a.renew(la!);
    expect(renewed).not.toBeNull();
    expect(a.valid(renewed!)).toBe(true);
    expect(a.valid(renewed!, renewed!.renewedAtMs + 600)).toBe(false);
    // A stale renewal (old sequence) is refused: compare-and-set.
    expect(await a.renew(la!)).toBeNull();
    await new Promise((r) => setTimeout(r, 1_100));
    const lb = await b.acquire('velib');
    expect(lb).not.toBeNull();
    expect(await a.renew(renewed!)).toBeNull();
    await b.release(lb!);
    expect(await a.acquire('velib')).not.toBeNull();
    await a.heartbeat();
    await b.heartbeat();
    expect(await a.liveWorkers()).toEqual(['a', 'b']);
    await new Promise((r) => setTimeout(r, 1_100));
    await b.heartbeat();
    expect(await a.liveWorkers()).toEqual(['b']);
  }, 20_000);
});

describe.skipIf(!natsUp)('collector buffer', () => {
  it('keeps at most N documents while the store fails, drops the oldest, says so, then drains with a feed gap', async () => {
    const log = await freshLog('BUFFER');
    const store = openSqliteStore({ path: path.join(dir, 'buffer.sqlite') });
    await store.migrate();
    let failing = false;
    const flaky = new Proxy(store, {
      get(target, prop) {
        if (prop === 'commitDiff' && failing) return () => Promise.reject(new Error('disk full (test)'));
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const city = makeCity('buf', { stations: 10, days: 1, locks: 0 });
    const col = new SystemCollector({
      store: flaky,
      log,
      snapshots: await SnapshotLog.open(log),
      system: 'buf',
      gapThresholdSec: GAP_SEC,
      maxBufferedDocuments: 3,
      logger,
      retryDelayMs: 20,
    });
    col.enqueueInformation(city.info);
    for (const doc of city.docs.slice(0, 5)) {
      col.enqueueStatus(doc);
      await col.whenIdle();
    }
    failing = true;
    col.enqueueStatus(city.docs[5]!);
    await waitFor(
      'the first failure',
      () => lines.join('').includes('buffering documents in memory'),
      5_000,
      10,
    );
    for (const doc of city.docs.slice(6, 13)) col.enqueueStatus(doc);
    expect(col.buffered).toBe(3);
    failing = false;
    await col.whenIdle();
    await col.stop();
    const text = lines.join('');
    expect(text).toContain(
      'cannot publish to NATS or save to the store: buffering documents in memory and retrying',
    );
    expect(text).toContain('collector buffer full: dropped the oldest buffered document');
    expect(text).toContain('publishing again');
    const events = await streamEvents(log, 'buf');
    const snapshots = events.filter((e) => e.type === 'snapshot').map((e) => e.timeSec);
    // Documents 0..4, the one in flight when the store failed (5, retried), then the 2 newest kept.
    const t = city.docs.map((d) => d.lastUpdatedSec);
    expect(snapshots).toEqual([t[0], t[1], t[2], t[3], t[4], t[5], t[11], t[12]]);
    expect(events.filter((e) => e.type === 'feed_gap').map((e) => e.timeSec)).toEqual([t[11]]);
    await store.close();
  }, 30_000);
});
