import type Database from 'better-sqlite3';
import type { FeedEvent, LoggedEvent } from '../../events/types.js';
import type { StationInfo, StationStatus } from '../../feed/model.js';
import type { StateChange } from '../../detection/types.js';
import type { Logger } from '../../log/index.js';
import type {
  DetectedStateRow,
  DiffState,
  EventLog,
  FeedHealth,
  SlotCount,
  SlotTotal,
  StateChangeQuery,
  StationSlot,
  Store,
  StoredStateChange,
  SystemRecord,
} from '../types.js';
import { SqliteContext, settle } from './context.js';
import { DetectionStore } from './detection.js';
import { DiffStateStore, type DiffUpdate } from './diff-state.js';
import { SqliteEventLog } from './event-log.js';
import { applyMigrations, LATEST_VERSION, schemaVersion } from './migrate.js';

/** Everything that needs the current schema: built on first use, after migrate(). */
interface Parts {
  ctx: SqliteContext;
  log: SqliteEventLog;
  diff: DiffStateStore;
  detection: DetectionStore;
  upsertSystem: Database.Statement;
  selectSystems: Database.Statement;
  upsertHealth: Database.Statement;
  selectHealth: Database.Statement;
  upsertInfo: Database.Statement;
  selectInfo: Database.Statement;
  addActivity: Database.Statement;
  selectActivity: Database.Statement;
  selectStationActivity: Database.Statement;
  activityDays: Database.Statement;
  activityTotals: Database.Statement;
  lastActivitySlots: Database.Statement;
}

type HealthRow = [number | null, number | null, number | null, number, number, string | null, string];
type InfoRow = [number, string, string, number, number, number | null];

export class SqliteStore implements Store {
  private partsCache: Parts | undefined;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly logger: Logger | undefined,
  ) {}

  batch<T>(fn: () => Promise<T>): Promise<T> {
    return settle(() => this.parts().ctx).then((ctx) => ctx.batch(fn));
  }

  private parts(): Parts {
    if (this.partsCache !== undefined) return this.partsCache;
    if (this.closed) throw new Error(`store ${this.file} is closed`);
    const version = schemaVersion(this.db);
    if (version !== LATEST_VERSION) {
      throw new Error(
        `database ${this.file} is at schema version ${version}, expected ${LATEST_VERSION}: call store.migrate() first`,
      );
    }
    const db = this.db;
    const ctx = new SqliteContext(db);
    this.partsCache = {
      ctx,
      log: new SqliteEventLog(ctx),
      diff: new DiffStateStore(ctx),
      detection: new DetectionStore(ctx),
      upsertSystem: db.prepare(
        `INSERT INTO systems (key, name, feed_url, timezone) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET name = excluded.name, feed_url = excluded.feed_url, timezone = excluded.timezone`,
      ),
      selectSystems: db
        .prepare('SELECT key, name, feed_url, timezone FROM systems WHERE name IS NOT NULL ORDER BY key')
        .raw(),
      upsertHealth: db.prepare(
        `INSERT OR REPLACE INTO feed_health (system_id, last_document_sec, last_poll_sec, last_success_sec, stale,
           consecutive_failures, last_error, rejected) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      selectHealth: db
        .prepare(
          `SELECT last_document_sec, last_poll_sec, last_success_sec, stale, consecutive_failures, last_error, rejected
           FROM feed_health WHERE system_id = ?`,
        )
        .raw(),
      upsertInfo: db.prepare(
        'INSERT OR REPLACE INTO station_info (system_id, station_id, code, name, lat, lon, capacity) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      selectInfo: db
        .prepare('SELECT station_id, code, name, lat, lon, capacity FROM station_info WHERE system_id = ?')
        .raw(),
      addActivity: db.prepare(
        `INSERT INTO activity (system_id, day, slot, station_id, rented, returned) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (system_id, day, slot, station_id)
         DO UPDATE SET rented = rented + excluded.rented, returned = returned + excluded.returned`,
      ),
      selectActivity: db
        .prepare(
          'SELECT station_id, day, slot, rented, returned FROM activity WHERE system_id = ? AND day BETWEEN ? AND ?',
        )
        .raw(),
      // One station: the key is (system, day, slot, station), so walk the (day, slot) pairs of the range
      // and look each up (~4,000 point lookups for four weeks) instead of scanning every station's rows.
      selectStationActivity: db
        .prepare(
          `WITH RECURSIVE
             days(day) AS (SELECT @fromDay UNION ALL SELECT day + 1 FROM days WHERE day < @toDay),
             slots(slot) AS (SELECT 0 UNION ALL SELECT slot + 1 FROM slots WHERE slot < 143)
           SELECT a.station_id, a.day, a.slot, a.rented, a.returned
           FROM days CROSS JOIN slots CROSS JOIN activity AS a
           WHERE a.system_id = @systemId AND a.day = days.day AND a.slot = slots.slot AND a.station_id = @stationId
           ORDER BY a.day, a.slot`,
        )
        .raw(),
      activityDays: db.prepare('SELECT min(day), max(day) FROM activity WHERE system_id = ?').raw(),
      // The key leads with (system, day, slot): the groups come in key order, no sort, no temp table.
      // Excluded stations come as a JSON array of dictionary ids.
      activityTotals: db
        .prepare(
          `SELECT day, slot, sum(rented), sum(returned) FROM activity
           WHERE system_id = ? AND day BETWEEN ? AND ? AND station_id NOT IN (SELECT value FROM json_each(?))
           GROUP BY day, slot ORDER BY day, slot`,
        )
        .raw(),
      lastActivitySlots: db
        .prepare(
          `SELECT station_id, max(day * 144 + slot) FROM activity
           WHERE system_id = ? AND day BETWEEN ? AND ? AND rented + returned > 0
           GROUP BY station_id`,
        )
        .raw(),
    };
    return this.partsCache;
  }

  /** Delegates to the real log once the schema is ready; before migrate() every call rejects clearly. */
  readonly log: EventLog = {
    append: (events) => this.withLog((log) => log.append(events)),
    read: (afterOffset, limit) => this.withLog((log) => log.read(afterOffset, limit)),
    lastOffset: () => this.withLog((log) => log.lastOffset()),
    consumerOffset: (consumer) => this.withLog((log) => log.consumerOffset(consumer)),
    commitOffset: (consumer, offset) => this.withLog((log) => log.commitOffset(consumer, offset)),
  };

  private withLog<T>(fn: (log: SqliteEventLog) => Promise<T>): Promise<T> {
    return settle(() => this.parts().log).then(fn);
  }

  migrate(): Promise<void> {
    return settle(() => {
      if (this.closed) throw new Error(`store ${this.file} is closed`);
      const applied = applyMigrations(this.db);
      if (applied.length > 0)
        this.logger?.info({ file: this.file, applied, version: LATEST_VERSION }, 'database migrated');
    });
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.closed) return;
      this.closed = true;
      this.partsCache = undefined;
      // Keeps the query planner's statistics fresh at a cheap moment (SQLite's advice for long-lived connections).
      this.db.pragma('optimize');
      this.db.close();
    });
  }

  upsertSystem(system: SystemRecord): Promise<void> {
    return settle(() => {
      const p = this.parts();
      p.ctx.write(() => p.upsertSystem.run(system.id, system.name, system.feedUrl, system.timezone));
      // The dictionary learns the id from the table (a new key gets its id here).
      p.ctx.dict.findSystemId(system.id);
    });
  }

  listSystems(): Promise<SystemRecord[]> {
    return settle(() =>
      (this.parts().selectSystems.all() as [string, string, string, string][]).map(
        ([id, name, feedUrl, timezone]) => ({
          id,
          name,
          feedUrl,
          timezone,
        }),
      ),
    );
  }

  saveFeedHealth(h: FeedHealth): Promise<void> {
    return settle(() => {
      const p = this.parts();
      p.ctx.write(() => {
        p.upsertHealth.run(
          p.ctx.dict.systemId(h.system),
          h.lastDocumentSec,
          h.lastPollSec,
          h.lastSuccessSec,
          h.stale ? 1 : 0,
          h.consecutiveFailures,
          h.lastError,
          JSON.stringify(h.rejected),
        );
      });
    });
  }

  feedHealth(system: string): Promise<FeedHealth | null> {
    return settle(() => {
      const p = this.parts();
      const systemId = p.ctx.dict.findSystemId(system);
      const r = systemId === undefined ? undefined : (p.selectHealth.get(systemId) as HealthRow | undefined);
      if (r === undefined) return null;
      return {
        system,
        lastDocumentSec: r[0],
        lastPollSec: r[1],
        lastSuccessSec: r[2],
        stale: r[3] === 1,
        consecutiveFailures: r[4],
        lastError: r[5],
        rejected: JSON.parse(r[6]) as Record<string, number>,
      };
    });
  }

  saveStationInfo(system: string, stations: StationInfo[]): Promise<void> {
    return settle(() => {
      const p = this.parts();
      p.ctx.write(() => {
        const systemId = p.ctx.dict.systemId(system);
        for (const s of stations) {
          const id = p.ctx.dict.stationId(systemId, s.stationId);
          p.upsertInfo.run(systemId, id, s.code, s.name, s.lat, s.lon, s.capacity);
        }
      });
    });
  }

  listStationInfo(system: string): Promise<StationInfo[]> {
    return settle(() => {
      const p = this.parts();
      const systemId = p.ctx.dict.findSystemId(system);
      if (systemId === undefined) return [];
      return (p.selectInfo.all(systemId) as InfoRow[]).map((r) => ({
        stationId: p.ctx.dict.stationKey(r[0]),
        code: r[1],
        name: r[2],
        lat: r[3],
        lon: r[4],
        capacity: r[5],
      }));
    });
  }

  loadDiffState(system: string): Promise<DiffState> {
    return settle(() => {
      const p = this.parts();
      return p.diff.load(p.ctx.dict.findSystemId(system));
    });
  }

  commitDiff(system: string, events: FeedEvent[], update: DiffUpdate): Promise<LoggedEvent[]> {
    return settle(() => {
      const p = this.parts();
      return p.ctx.write(() => {
        const appended = p.log.appendInTx(events);
        p.diff.saveInTx(p.ctx.dict.systemId(system), update);
        return appended;
      });
    });
  }

  listStationStatus(system: string): Promise<StationStatus[]> {
    return settle(() => {
      const p = this.parts();
      return p.diff.listStatus(p.ctx.dict.findSystemId(system));
    });
  }

  commitActivity(system: string, consumer: string, offset: number, increments: SlotCount[]): Promise<void> {
    return settle(() => {
      const p = this.parts();
      p.ctx.write(() => {
        const systemId = p.ctx.dict.systemId(system);
        for (const c of increments) {
          p.addActivity.run(
            systemId,
            c.day,
            c.slot,
            p.ctx.dict.stationId(systemId, c.stationId),
            c.rented,
            c.returned,
          );
        }
        p.log.setOffsetInTx(consumer, offset);
      });
    });
  }

  activityTotals(
    system: string,
    fromDay: number,
    toDay: number,
    excludeStationIds: readonly string[],
  ): Promise<SlotTotal[]> {
    return settle(() => {
      const p = this.parts();
      const dict = p.ctx.dict;
      const systemId = dict.findSystemId(system);
      if (systemId === undefined) return [];
      const excluded: number[] = [];
      for (const key of excludeStationIds) {
        const id = dict.findStationId(systemId, key);
        if (id !== undefined) excluded.push(id);
      }
      const rows = p.activityTotals.all(systemId, fromDay, toDay, JSON.stringify(excluded)) as [
        number,
        number,
        number,
        number,
      ][];
      return rows.map((r) => ({ day: r[0], slot: r[1], rented: r[2], returned: r[3] }));
    });
  }

  lastActivitySlots(system: string, fromDay: number, toDay: number): Promise<StationSlot[]> {
    return settle(() => {
      const p = this.parts();
      const dict = p.ctx.dict;
      const systemId = dict.findSystemId(system);
      if (systemId === undefined) return [];
      const rows = p.lastActivitySlots.all(systemId, fromDay, toDay) as [number, number][];
      return rows.map((r) => ({
        stationId: dict.stationKey(r[0]),
        day: Math.floor(r[1] / 144),
        slot: r[1] % 144,
      }));
    });
  }

  scanActivity(
    system: string,
    fromDay: number,
    toDay: number,
    visit: (slot: SlotCount) => void,
  ): Promise<void> {
    return settle(() => {
      const p = this.parts();
      const dict = p.ctx.dict;
      const systemId = dict.findSystemId(system);
      if (systemId === undefined) return;
      // iterate(): one row at a time, each garbage before the next (young generation only).
      const rows = p.selectActivity.iterate(systemId, fromDay, toDay) as IterableIterator<
        [number, number, number, number, number]
      >;
      for (const r of rows)
        visit({ stationId: dict.stationKey(r[0]), day: r[1], slot: r[2], rented: r[3], returned: r[4] });
    });
  }

  loadActivity(system: string, fromDay: number, toDay?: number, stationId?: string): Promise<SlotCount[]> {
    return settle(() => {
      const p = this.parts();
      const dict = p.ctx.dict;
      const systemId = dict.findSystemId(system);
      if (systemId === undefined) return [];
      let rows: [number, number, number, number, number][];
      if (stationId === undefined) {
        rows = p.selectActivity.all(systemId, fromDay, toDay ?? Number.MAX_SAFE_INTEGER) as typeof rows;
      } else {
        const id = dict.findStationId(systemId, stationId);
        if (id === undefined) return [];
        // Walk only the days that hold data: a range given as (0, open) must not enumerate ages.
        const [minDay, maxDay] = p.activityDays.get(systemId) as [number | null, number | null];
        if (minDay === null || maxDay === null) return [];
        rows = p.selectStationActivity.all({
          systemId,
          stationId: id,
          fromDay: Math.max(fromDay, minDay),
          toDay: Math.min(toDay ?? maxDay, maxDay),
        }) as typeof rows;
      }
      return rows.map((r) => ({
        stationId: dict.stationKey(r[0]),
        day: r[1],
        slot: r[2],
        rented: r[3],
        returned: r[4],
      }));
    });
  }

  loadCheckpoint(consumer: string): Promise<{ offset: number; state: unknown } | null> {
    return settle(() => this.parts().detection.loadCheckpoint(consumer));
  }

  /** Moves the consumer's offset to `offset` too: its progress, for lag and for prune. */
  commitDetection(
    consumer: string,
    offset: number,
    changes: StateChange[],
    checkpoint?: unknown,
  ): Promise<void> {
    return settle(() => {
      const p = this.parts();
      p.ctx.write(() => {
        p.detection.insertChangesInTx(changes);
        p.log.setOffsetInTx(consumer, offset);
        if (checkpoint !== undefined) p.detection.saveCheckpointInTx(consumer, offset, checkpoint);
      });
    });
  }

  saveDetectedStates(system: string, rows: DetectedStateRow[]): Promise<void> {
    return settle(() => this.parts().detection.saveDetected(system, rows));
  }

  listDetectedStates(system: string): Promise<DetectedStateRow[]> {
    return settle(() => this.parts().detection.listDetected(system));
  }

  listStateChanges(query: StateChangeQuery): Promise<StoredStateChange[]> {
    return settle(() => this.parts().detection.listChanges(query));
  }

  /**
   * Events go only when older than the limit AND every consumer is past them: the bound is the
   * lowest committed offset and the lowest checkpoint (a detector restarts from its checkpoint, so
   * it still needs the events after it). Events go by whole batches (a document's events), and the
   * newest batch always stays, so offsets never restart.
   */
  prune(opts: {
    eventsBeforeSec: number;
    stateChangesBeforeSec: number;
    activityBeforeDay: number;
  }): Promise<number> {
    return settle(() => {
      const p = this.parts();
      const db = this.db;
      const deleted = p.ctx.write(() => {
        const last = p.log.nextOffsetSync() - 1;
        const consumers = db
          .prepare(
            'SELECT min(o) FROM (SELECT log_offset AS o FROM consumer_offsets UNION ALL SELECT log_offset FROM checkpoints)',
          )
          .pluck()
          .get() as number | null;
        const bound = Math.min(consumers ?? last, last);
        // Whole batches only, never the newest one (offsets continue from it).
        const where = `time_sec < ? AND first_offset + event_count - 1 <= ?
          AND first_offset < (SELECT max(first_offset) FROM event_batches)`;
        const events = db
          .prepare(`SELECT coalesce(sum(event_count), 0) FROM event_batches WHERE ${where}`)
          .pluck()
          .get(opts.eventsBeforeSec, bound) as number;
        db.prepare(`DELETE FROM event_batches WHERE ${where}`).run(opts.eventsBeforeSec, bound);
        const changes = db
          .prepare('DELETE FROM state_changes WHERE time_sec < ?')
          .run(opts.stateChangesBeforeSec).changes;
        // Per system: the activity key leads with (system, day), so each delete is a range, not a scan.
        const deleteActivity = db.prepare('DELETE FROM activity WHERE system_id = ? AND day < ?');
        let activity = 0;
        for (const systemId of db.prepare('SELECT id FROM systems').pluck().all() as number[]) {
          activity += deleteActivity.run(systemId, opts.activityBeforeDay).changes;
        }
        return { events, changes, activity, offsetBound: bound };
      });
      this.logger?.info({ file: this.file, ...deleted }, 'pruned');
      return deleted.events + deleted.changes + deleted.activity;
    });
  }
}
