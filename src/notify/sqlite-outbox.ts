/** SQLite rows of the announcer's memory, announcements, the outbox and its attempt log. */
import type Database from 'better-sqlite3';
import type { StoredStateChange } from '../storage/index.js';
import type {
  Announcement,
  AttemptRecord,
  AttemptResult,
  Channel,
  DeliveryQuery,
  DeliveryRecord,
  NewAnnouncement,
  OutboxItem,
  OutboxStatus,
  StationAnnounceState,
} from './types.js';

interface OutboxRow {
  id: number;
  announcement_id: number;
  channel: string;
  target_id: number;
  status: string;
  attempts: number;
  next_attempt_ms: number;
  last_status: number | null;
  last_error: string | null;
  created_ms: number;
  finished_ms: number | null;
}

interface AnnouncementRow {
  id: number;
  system: string;
  station_id: string;
  change_offset: number;
  from_state: string;
  to_state: string;
  time_sec: number;
  held_sec: number;
  payload: string;
  stale: number;
  created_ms: number;
}

interface AttemptRow {
  outbox_id: number;
  attempt: number;
  at_ms: number;
  duration_ms: number;
  http_status: number | null;
  error: string | null;
  outcome: string;
}

function toItem(r: OutboxRow): OutboxItem {
  return {
    id: r.id,
    announcementId: r.announcement_id,
    channel: r.channel as Channel,
    targetId: r.target_id,
    status: r.status as OutboxStatus,
    attempts: r.attempts,
    nextAttemptMs: r.next_attempt_ms,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdMs: r.created_ms,
    finishedMs: r.finished_ms,
  };
}

function toAnnouncement(r: AnnouncementRow): Announcement {
  return {
    id: r.id,
    system: r.system,
    stationId: r.station_id,
    changeOffset: r.change_offset,
    from: r.from_state,
    to: r.to_state,
    timeSec: r.time_sec,
    heldSec: r.held_sec,
    payload: r.payload,
    stale: r.stale === 1,
    createdMs: r.created_ms,
  };
}

const OUTBOX_COLUMNS =
  'id, announcement_id, channel, target_id, status, attempts, next_attempt_ms, last_status, last_error, created_ms, finished_ms';

export class OutboxTables {
  constructor(private readonly db: Database.Database) {}

  loadAnnouncer(system: string): { cursor: number | null; stations: StationAnnounceState[] } {
    const c = this.db.prepare('SELECT cursor FROM notify_announcer WHERE system = ?').get(system) as
      { cursor: number } | undefined;
    const rows = this.db
      .prepare('SELECT station_id, announced, pending FROM notify_stations WHERE system = ?')
      .all(system) as { station_id: string; announced: string; pending: string | null }[];
    return {
      cursor: c?.cursor ?? null,
      stations: rows.map((r) => ({
        stationId: r.station_id,
        announced: r.announced,
        pending: r.pending === null ? null : (JSON.parse(r.pending) as StoredStateChange),
      })),
    };
  }

  /** Inside the caller's transaction. Returns ids of announcements inserted now (not the replays). */
  commitAnnouncer(
    system: string,
    step: { cursor: number; stations: StationAnnounceState[]; announcements: NewAnnouncement[] },
    nowMs: number,
  ): number[] {
    const insertAnnouncement = this.db.prepare(
      `INSERT INTO notify_announcements (system, station_id, change_offset, to_state, from_state, time_sec, held_sec,
         payload, stale, created_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (system, station_id, change_offset, to_state) DO NOTHING`,
    );
    const insertOutbox = this.db.prepare(
      `INSERT INTO notify_outbox (announcement_id, channel, target_id, status, next_attempt_ms, created_ms)
       VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (announcement_id, channel, target_id) DO NOTHING`,
    );
    const ids: number[] = [];
    for (const a of step.announcements) {
      const info = insertAnnouncement.run(
        a.system,
        a.stationId,
        a.changeOffset,
        a.to,
        a.from,
        a.timeSec,
        a.heldSec,
        a.payload,
        a.stale ? 1 : 0,
        nowMs,
      );
      if (info.changes === 0) continue; // announced before (a restart redoing a step): nothing twice
      const id = Number(info.lastInsertRowid);
      ids.push(id);
      if (!a.stale) for (const d of a.deliveries) insertOutbox.run(id, d.channel, d.targetId, nowMs, nowMs);
    }
    const upsertStation = this.db.prepare(
      'INSERT OR REPLACE INTO notify_stations (system, station_id, announced, pending) VALUES (?, ?, ?, ?)',
    );
    for (const s of step.stations) {
      upsertStation.run(
        system,
        s.stationId,
        s.announced,
        s.pending === null ? null : JSON.stringify(s.pending),
      );
    }
    this.db
      .prepare('INSERT OR REPLACE INTO notify_announcer (system, cursor) VALUES (?, ?)')
      .run(system, step.cursor);
    return ids;
  }

  /** Inside the caller's transaction. */
  claimDue(nowMs: number, leaseMs: number, limit: number): OutboxItem[] {
    const rows = this.db
      .prepare(
        `UPDATE notify_outbox SET lease_until_ms = ?
         WHERE id IN (SELECT id FROM notify_outbox
                      WHERE status = 'pending' AND next_attempt_ms <= ? AND lease_until_ms <= ?
                      ORDER BY next_attempt_ms, id LIMIT ?)
         RETURNING ${OUTBOX_COLUMNS}`,
      )
      .all(nowMs + leaseMs, nowMs, nowMs, limit) as OutboxRow[];
    return rows.map(toItem).sort((a, b) => a.nextAttemptMs - b.nextAttemptMs || a.id - b.id);
  }

  /** Inside the caller's transaction. */
  recordAttempt(itemId: number, a: AttemptRecord, result: AttemptResult): void {
    // Only a row still pending moves on: one cancelled meanwhile (subscription deleted) stays so.
    this.db
      .prepare(
        `UPDATE notify_outbox SET status = ?, attempts = ?, next_attempt_ms = ?, lease_until_ms = 0,
           last_status = ?, last_error = ?, finished_ms = ?
         WHERE id = ? AND status = 'pending'`,
      )
      .run(
        result.status,
        a.attempt,
        result.status === 'pending' ? result.nextAttemptMs : a.atMs,
        a.httpStatus,
        a.error,
        result.status === 'pending' ? null : a.atMs + a.durationMs,
        itemId,
      );
    this.db
      .prepare(
        `INSERT INTO notify_attempts (outbox_id, attempt, at_ms, duration_ms, http_status, error, outcome)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(itemId, a.attempt, a.atMs, a.durationMs, a.httpStatus, a.error, a.outcome);
  }

  /** Inside the caller's transaction. */
  cancelTarget(channel: Channel, targetId: number, nowMs: number, reason: string): void {
    this.db
      .prepare(
        `UPDATE notify_outbox SET status = 'cancelled', last_error = ?, finished_ms = ?, lease_until_ms = 0
         WHERE channel = ? AND target_id = ? AND status = 'pending'`,
      )
      .run(reason, nowMs, channel, targetId);
  }

  cancel(itemId: number, nowMs: number, reason: string): void {
    this.db
      .prepare(
        `UPDATE notify_outbox SET status = 'cancelled', last_error = ?, finished_ms = ?, lease_until_ms = 0
         WHERE id = ? AND status = 'pending'`,
      )
      .run(reason, nowMs, itemId);
  }

  getAnnouncement(id: number): Announcement | null {
    const row = this.db.prepare('SELECT * FROM notify_announcements WHERE id = ?').get(id) as
      AnnouncementRow | undefined;
    return row === undefined ? null : toAnnouncement(row);
  }

  listDeliveries(q: DeliveryQuery): DeliveryRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('channel = ?', q.channel);
    add('target_id = ?', q.targetId);
    add('status = ?', q.status);
    add('id < ?', q.beforeId);
    const sql = `SELECT ${OUTBOX_COLUMNS} FROM notify_outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as OutboxRow[];
    return this.withDetails(rows.map(toItem));
  }

  getDelivery(id: number): DeliveryRecord | null {
    const row = this.db.prepare(`SELECT ${OUTBOX_COLUMNS} FROM notify_outbox WHERE id = ?`).get(id) as
      OutboxRow | undefined;
    return row === undefined ? null : (this.withDetails([toItem(row)])[0] ?? null);
  }

  requeue(id: number, nowMs: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE notify_outbox SET status = 'pending', attempts = 0, next_attempt_ms = ?, lease_until_ms = 0,
             finished_ms = NULL WHERE id = ? AND status = 'dead'`,
        )
        .run(nowMs, id).changes > 0
    );
  }

  pendingCount(): number {
    const row = this.db.prepare("SELECT count(*) AS n FROM notify_outbox WHERE status = 'pending'").get() as {
      n: number;
    };
    return row.n;
  }

  private withDetails(items: OutboxItem[]): DeliveryRecord[] {
    if (items.length === 0) return [];
    const marks = items.map(() => '?').join(',');
    const attempts = this.db
      .prepare(`SELECT * FROM notify_attempts WHERE outbox_id IN (${marks}) ORDER BY outbox_id, id`)
      .all(...items.map((i) => i.id)) as AttemptRow[];
    const byItem = new Map<number, AttemptRecord[]>();
    for (const a of attempts) {
      let list = byItem.get(a.outbox_id);
      if (!list) byItem.set(a.outbox_id, (list = []));
      list.push({
        attempt: a.attempt,
        atMs: a.at_ms,
        durationMs: a.duration_ms,
        httpStatus: a.http_status,
        error: a.error,
        outcome: a.outcome as AttemptRecord['outcome'],
      });
    }
    const announcements = new Map<number, Announcement>();
    for (const i of items) {
      if (!announcements.has(i.announcementId)) {
        const a = this.getAnnouncement(i.announcementId);
        if (a) announcements.set(i.announcementId, a);
      }
    }
    return items.map((i) => ({
      ...i,
      announcement: announcements.get(i.announcementId)!,
      attemptLog: byItem.get(i.id) ?? [],
    }));
  }
}
