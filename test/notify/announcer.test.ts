/**
 * The announcer over a real SQLite store: a change is announced once, only after it held for the
 * hold time of document time; a change reverted within the hold is never announced; a restart
 * (new Announcer on reopened stores) and a redone step announce nothing twice.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Announcer, type NotifyStore, type WebhookPayload } from '../../src/notify/index.js';
import { changeAt, documentAt, SYSTEM, T0, useNotifyDb, type NotifyDb } from './helpers.js';

const HOLD = 600;

function announcer(db: NotifyDb, maxLagSec = 3600): Announcer {
  return new Announcer({
    system: SYSTEM,
    store: db.store,
    notifyStore: db.notifyStore,
    holdSec: HOLD,
    maxLagSec,
    publicUrl: 'https://d.example',
  });
}

async function announcements(notifyStore: NotifyStore): Promise<WebhookPayload[]> {
  const out: WebhookPayload[] = [];
  for (let id = 1; ; id++) {
    const a = await notifyStore.getAnnouncement(id);
    if (a === null) return out;
    out.push(JSON.parse(a.payload) as WebhookPayload);
  }
}

describe('announcer: once, and only after the state held', () => {
  const db = useNotifyDb();

  it('announces a change once, when document time passes the hold, not before', async () => {
    const a = announcer(db);
    expect(await a.tick()).toBe(0); // first run: cursor set after existing history
    const offset = await changeAt(db.store, T0 + 60, '1001', 'ok', 'locked');
    await documentAt(db.store, T0 + 60 + HOLD - 60);
    expect(await a.tick()).toBe(0); // held 540 s < 600 s
    await documentAt(db.store, T0 + 60 + HOLD);
    expect(await a.tick()).toBe(1);
    await documentAt(db.store, T0 + 60 + HOLD + 60);
    expect(await a.tick()).toBe(0); // never twice

    const [p] = await announcements(db.notifyStore);
    expect(p).toMatchObject({
      type: 'station.state_changed',
      id: `${SYSTEM}:1001:${offset}:locked`,
      system: SYSTEM,
      station: { id: '1001', code: '16107', name: 'Benjamin Godard - Victor Hugo' },
      from: 'ok',
      to: 'locked',
      changedAtSec: T0 + 60,
      confirmedAtSec: T0 + 60 + HOLD,
      url: 'https://d.example/station/16107',
    });
  });

  it('says nothing about a state that flaps back within the hold', async () => {
    const a = announcer(db);
    await a.tick();
    await changeAt(db.store, T0 + 60, '1001', 'ok', 'locked');
    await changeAt(db.store, T0 + 360, '1001', 'locked', 'ok'); // back after 5 min
    await changeAt(db.store, T0 + 420, '1002', 'ok', 'rent_blocked');
    await changeAt(db.store, T0 + 700, '1002', 'rent_blocked', 'ok'); // back after 280 s
    await documentAt(db.store, T0 + 5000);
    expect(await a.tick()).toBe(0);
    // Same, seen one change per step (live) rather than all at once (catch-up).
    await changeAt(db.store, T0 + 6000, '1003', 'ok', 'locked');
    expect(await a.tick()).toBe(0);
    await changeAt(db.store, T0 + 6300, '1003', 'locked', 'ok');
    expect(await a.tick()).toBe(0);
    await documentAt(db.store, T0 + 9000);
    expect(await a.tick()).toBe(0);
    expect(await announcements(db.notifyStore)).toEqual([]);
  });

  it('announces the state that finally held after a flap, from the last announced state', async () => {
    const a = announcer(db);
    await a.tick();
    await changeAt(db.store, T0 + 60, '1001', 'ok', 'locked');
    await changeAt(db.store, T0 + 200, '1001', 'locked', 'ok');
    const held = await changeAt(db.store, T0 + 300, '1001', 'ok', 'rent_blocked');
    await documentAt(db.store, T0 + 300 + HOLD);
    expect(await a.tick()).toBe(1);
    await changeAt(db.store, T0 + 2000, '1001', 'rent_blocked', 'ok');
    await documentAt(db.store, T0 + 2000 + HOLD);
    expect(await a.tick()).toBe(1);
    const list = await announcements(db.notifyStore);
    expect(list.map((p) => [p.from, p.to, p.id])).toEqual([
      ['ok', 'rent_blocked', `${SYSTEM}:1001:${held}:rent_blocked`],
      ['rent_blocked', 'ok', expect.stringContaining(':ok') as unknown],
    ]);
  });

  it('judges holds by the changes’ own times when catching up (same result as live)', async () => {
    const a = announcer(db);
    await a.tick();
    await changeAt(db.store, T0 + 60, '1001', 'ok', 'locked');
    await changeAt(db.store, T0 + 60 + HOLD + 100, '1001', 'locked', 'ok'); // locked held 700 s
    await documentAt(db.store, T0 + 60 + HOLD + 200); // 'ok' held only 100 s so far
    expect(await a.tick()).toBe(1);
    expect((await announcements(db.notifyStore)).map((p) => p.to)).toEqual(['locked']);
  });

  it('reads a long run of new changes page by page, in order', async () => {
    const a = announcer(db);
    await a.tick();
    let last = 0;
    for (let i = 0; i < 31; i++) {
      const [from, to] = i % 2 === 0 ? (['ok', 'locked'] as const) : (['locked', 'ok'] as const);
      last = await changeAt(db.store, T0 + 60 * (i + 1), '1002', from, to);
    }
    await documentAt(db.store, T0 + 60 * 31 + HOLD);
    expect(await a.tick()).toBe(1);
    expect((await announcements(db.notifyStore)).map((p) => p.id)).toEqual([`${SYSTEM}:1002:${last}:locked`]);
  });

  it('does not announce the detector’s warm-up (learning → ok), but a lock found on leaving it', async () => {
    const a = announcer(db);
    await a.tick();
    await changeAt(db.store, T0 + 60, '1001', 'learning', 'ok');
    await changeAt(db.store, T0 + 61, '1002', 'learning', 'locked');
    await documentAt(db.store, T0 + 61 + HOLD);
    expect(await a.tick()).toBe(1);
    expect((await announcements(db.notifyStore)).map((p) => `${p.station.id}:${p.from}>${p.to}`)).toEqual([
      '1002:learning>locked',
    ]);
  });

  it('records but does not deliver a change that held too long ago to be news', async () => {
    const a = announcer(db, 3600);
    await a.tick();
    await changeAt(db.store, T0 + 60, '1001', 'ok', 'locked');
    await documentAt(db.store, T0 + 60 + HOLD + 7200); // notifier was away for two hours
    expect(await a.tick()).toBe(1);
    const row = await db.notifyStore.getAnnouncement(1);
    expect(row?.stale).toBe(true);
    expect(await db.notifyStore.pendingCount()).toBe(0);
  });

  it('after a restart, and after a redone step, announces nothing twice', async () => {
    let a = announcer(db);
    await a.tick();
    await changeAt(db.store, T0 + 60, '1001', 'ok', 'locked');
    await documentAt(db.store, T0 + 100);
    await a.tick(); // pending, not yet held
    // Restart: close both stores, reopen from the file, new announcer.
    await db.reopen();
    a = announcer(db);
    await documentAt(db.store, T0 + 60 + HOLD);
    expect(await a.tick()).toBe(1); // the pending change survived the restart
    // A step redone from an older cursor (as if its commit had been lost): the key stops a repeat.
    const raw = new Database(db.tmp.file);
    raw.prepare('UPDATE notify_announcer SET cursor = 0 WHERE system = ?').run(SYSTEM);
    raw.prepare('DELETE FROM notify_stations').run();
    raw.close();
    a = announcer(db);
    await documentAt(db.store, T0 + 60 + HOLD + 600);
    expect(await a.tick()).toBe(0);
    expect(await announcements(db.notifyStore)).toHaveLength(1);
  });
});
