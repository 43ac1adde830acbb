import { gatedEventLog } from '../gated-log.js';
import { ReadyCheck } from '../ready-check.js';
import type pg from 'pg';
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
import { PgActivity } from './activity.js';
import { describeError, redactUrl } from './connection.js';
import { PgContext, stmt } from './context.js';
import { PgDetection } from './detection.js';
import { PgDictionary } from './dictionary.js';
import { PgDiffState, type DiffUpdate } from './diff-state.js';
import { PgEventLog } from './event-log.js';
import { applyPgMigrations, PG_LATEST_VERSION, pgSchemaVersion } from './migrate.js';
import { prune, type PruneLimits } from './prune.js';

const updateSystem = stmt(
  'store_update_system',
  'UPDATE systems SET name = $2, feed_url = $3, timezone = $4 WHERE id = $1',
);
const selectSystems = stmt(
  'store_select_systems',
  'SELECT key, name, feed_url, timezone FROM systems WHERE name IS NOT NULL ORDER BY key',
);
const upsertHealth = stmt(
  'store_upsert_health',
  `INSERT INTO feed_health (system_id, last_document_sec, last_poll_sec, last_success_sec, stale, consecutive_failures, last_error, rejected)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
   ON CONFLICT (system_id) DO UPDATE SET last_document_sec = excluded.last_document_sec, last_poll_sec = excluded.last_poll_sec,
     last_success_sec = excluded.last_success_sec, stale = excluded.stale, consecutive_failures = excluded.consecutive_failures,
     last_error = excluded.last_error, rejected = excluded.rejected`,
);
const selectHealth = stmt(
  'store_select_health',
  `SELECT last_document_sec, last_poll_sec, last_success_sec, stale, consecutive_failures, last_error, rejected
   FROM feed_health WHERE system_id = $1`,
);
const upsertInfo = stmt(
  'store_upsert_info',
  `INSERT INTO station_info (system_id, station_id, code, name, lat, lon, capacity)
   SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::integer[])
   ON CONFLICT (system_id, station_id) DO UPDATE SET code = excluded.code, name = excluded.name, lat = excluded.lat,
     lon = excluded.lon, capacity = excluded.capacity`,
);
const selectInfo = stmt(
  'store_select_info',
  `SELECT s.key, i.code, i.name, i.lat, i.lon, i.capacity FROM station_info AS i JOIN stations AS s ON s.id = i.station_id
   WHERE i.system_id = $1`,
);

type HealthRow = [number | null, number | null, number | null, boolean, number, string | null, string];

/** The Store on PostgreSQL: the same behaviour as the SQLite store (test/storage/contract.ts). */
export class PostgresStore implements Store {
  private readonly ctx: PgContext;
  private readonly dict: PgDictionary;
  private readonly eventLog: PgEventLog;
  private readonly diff: PgDiffState;
  private readonly activity: PgActivity;
  private readonly detection: PgDetection;
  private readonly readyCheck = new ReadyCheck();
  private closed = false;

  /** `dictPool`: a small pool of its own for new dictionary ids (see dictionary.ts). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly dictPool: pg.Pool,
    private readonly url: string,
    readonly schema: string,
    private readonly logger: Logger | undefined,
  ) {
    this.ctx = new PgContext(pool, url);
    this.dict = new PgDictionary(dictPool);
    this.eventLog = new PgEventLog(this.ctx, this.dict);
    this.log = gatedEventLog(this.eventLog, () => this.ready());
    this.diff = new PgDiffState(this.ctx, this.dict);
    this.activity = new PgActivity(this.dict);
    this.detection = new PgDetection(this.dict);
  }

  /** Every call checks once that the schema is migrated: a clear error instead of "relation does not exist". */
  private ready(): Promise<void> {
    if (this.closed)
      return Promise.reject(new Error(`store ${redactUrl(this.url)} (schema ${this.schema}) is closed`));
    return this.readyCheck.run(() =>
      this.ctx.read(async () => {
        const version = await pgSchemaVersion(this.pool, this.schema);
        if (version !== PG_LATEST_VERSION) {
          throw new Error(
            `PostgreSQL schema ${this.schema} is at version ${version}, expected ${PG_LATEST_VERSION}: call store.migrate() first`,
          );
        }
      }),
    );
  }

  readonly log: EventLog;

  async batch<T>(fn: () => Promise<T>): Promise<T> {
    await this.ready();
    return this.ctx.batch(fn);
  }

  async migrate(): Promise<void> {
    if (this.closed) throw new Error(`store ${redactUrl(this.url)} (schema ${this.schema}) is closed`);
    let applied: number[];
    try {
      applied = await applyPgMigrations(this.pool, this.schema);
    } catch (err) {
      throw describeError(err, this.url);
    }
    this.readyCheck.markPassed();
    if (applied.length > 0)
      this.logger?.info({ schema: this.schema, applied, version: PG_LATEST_VERSION }, 'database migrated');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.end(), this.dictPool.end()]);
  }

  async upsertSystem(s: SystemRecord): Promise<void> {
    await this.ready();
    // The id first (committed apart, as every dictionary id), then the row's other columns.
    await this.ctx.write(
      async (tx) => tx.run(updateSystem, [await this.dict.systemId(s.id), s.name, s.feedUrl, s.timezone]),
      'autocommit',
    );
  }

  async listSystems(): Promise<SystemRecord[]> {
    await this.ready();
    const rows = await this.ctx.db.rows<[string, string, string, string]>(selectSystems);
    return rows.map(([id, name, feedUrl, timezone]) => ({ id, name, feedUrl, timezone }));
  }

  async saveFeedHealth(h: FeedHealth): Promise<void> {
    await this.ready();
    await this.ctx.write(async (tx) => {
      const systemId = await this.dict.systemId(h.system);
      const values = [
        systemId,
        h.lastDocumentSec,
        h.lastPollSec,
        h.lastSuccessSec,
        h.stale,
        h.consecutiveFailures,
        h.lastError,
      ];
      await tx.run(upsertHealth, [...values, JSON.stringify(h.rejected)]);
    }, 'autocommit');
  }

  async feedHealth(system: string): Promise<FeedHealth | null> {
    await this.ready();
    return this.ctx.read(async (db) => {
      const systemId = await this.dict.findSystemId(db, system);
      const r = systemId === undefined ? undefined : (await db.rows<HealthRow>(selectHealth, [systemId]))[0];
      if (r === undefined) return null;
      return {
        system,
        lastDocumentSec: r[0],
        lastPollSec: r[1],
        lastSuccessSec: r[2],
        stale: r[3],
        consecutiveFailures: r[4],
        lastError: r[5],
        rejected: JSON.parse(r[6]) as Record<string, number>,
      };
    });
  }

  async saveStationInfo(system: string, stations: StationInfo[]): Promise<void> {
    await this.ready();
    await this.ctx.write(async (tx) => {
      const systemId = await this.dict.systemId(system);
      const byId = new Map<string, StationInfo>();
      for (const s of stations) byId.set(s.stationId, s);
      if (byId.size === 0) return;
      await this.dict.resolveStations(tx, systemId, byId.keys());
      const list = [...byId.values()];
      await tx.run(upsertInfo, [
        systemId,
        list.map((s) => this.dict.stationId(systemId, s.stationId)),
        list.map((s) => s.code),
        list.map((s) => s.name),
        list.map((s) => s.lat),
        list.map((s) => s.lon),
        list.map((s) => s.capacity),
      ]);
    }, 'autocommit');
  }

  async listStationInfo(system: string): Promise<StationInfo[]> {
    await this.ready();
    return this.ctx.read(async (db) => {
      const systemId = await this.dict.findSystemId(db, system);
      if (systemId === undefined) return [];
      const rows = await db.rows<[string, string, string, number, number, number | null]>(selectInfo, [
        systemId,
      ]);
      return rows.map((r) => ({
        stationId: r[0],
        code: r[1],
        name: r[2],
        lat: r[3],
        lon: r[4],
        capacity: r[5],
      }));
    });
  }

  async loadDiffState(system: string): Promise<DiffState> {
    await this.ready();
    const systemId = await this.ctx.read((db) => this.dict.findSystemId(db, system));
    return this.diff.load(systemId);
  }

  /**
   * One transaction, three round trips: BEGIN + lock the log head + read the keys stored at the
   * document's time; the batch, the head, the system's diff row and its changed stations in one
   * statement; COMMIT.
   */
  async commitDiff(system: string, events: FeedEvent[], update: DiffUpdate): Promise<LoggedEvent[]> {
    await this.ready();
    return this.ctx.write(async (tx) => {
      const append = events.length === 0 ? null : await this.eventLog.prepareAppend(tx, events);
      const log = append !== null && append.out.length > 0 ? append.params : null;
      await this.diff.saveInTx(tx, await this.dict.systemId(system), update, log);
      return append?.out ?? [];
    });
  }

  async listStationStatus(system: string): Promise<StationStatus[]> {
    await this.ready();
    return this.ctx.read(async (db) => this.diff.listStatus(db, await this.dict.findSystemId(db, system)));
  }

  async commitActivity(
    system: string,
    consumer: string,
    offset: number,
    increments: SlotCount[],
  ): Promise<void> {
    await this.ready();
    await this.ctx.write(
      (tx) => this.activity.commitInTx(tx, system, consumer, offset, increments),
      'autocommit',
    );
  }

  async loadActivity(
    system: string,
    fromDay: number,
    toDay?: number,
    stationId?: string,
  ): Promise<SlotCount[]> {
    await this.ready();
    return this.ctx.read(async (db) => {
      const systemId = await this.dict.findSystemId(db, system);
      return systemId === undefined ? [] : this.activity.load(db, systemId, fromDay, toDay, stationId);
    });
  }

  async activityTotals(
    system: string,
    fromDay: number,
    toDay: number,
    excludeStationIds: readonly string[],
  ): Promise<SlotTotal[]> {
    await this.ready();
    return this.ctx.read(async (db) => {
      const systemId = await this.dict.findSystemId(db, system);
      return systemId === undefined
        ? []
        : this.activity.totals(db, systemId, fromDay, toDay, excludeStationIds);
    });
  }

  async lastActivitySlots(system: string, fromDay: number, toDay: number): Promise<StationSlot[]> {
    await this.ready();
    return this.ctx.read(async (db) => {
      const systemId = await this.dict.findSystemId(db, system);
      return systemId === undefined ? [] : this.activity.lastSlots(db, systemId, fromDay, toDay);
    });
  }

  async loadCheckpoint(consumer: string): Promise<{ offset: number; state: unknown } | null> {
    await this.ready();
    return this.ctx.read((db) => this.detection.loadCheckpoint(db, consumer));
  }

  /** Moves the consumer's offset to `offset` too: its progress, for lag and for prune. */
  async commitDetection(
    consumer: string,
    offset: number,
    changes: StateChange[],
    checkpoint?: unknown,
  ): Promise<void> {
    await this.ready();
    await this.ctx.write(
      (tx) => this.detection.commitInTx(tx, consumer, offset, changes, checkpoint),
      'autocommit',
    );
  }

  async saveDetectedStates(system: string, rows: DetectedStateRow[]): Promise<void> {
    await this.ready();
    if (rows.length === 0) return;
    await this.ctx.write((tx) => this.detection.saveDetectedInTx(tx, system, rows), 'autocommit');
  }

  async listDetectedStates(system: string): Promise<DetectedStateRow[]> {
    await this.ready();
    return this.ctx.read(async (db) =>
      this.detection.listDetected(db, await this.dict.findSystemId(db, system)),
    );
  }

  async listStateChanges(query: StateChangeQuery): Promise<StoredStateChange[]> {
    await this.ready();
    return this.ctx.read((db) => this.detection.listChanges(db, query));
  }

  async prune(limits: PruneLimits): Promise<number> {
    await this.ready();
    const deleted = await this.ctx.write((tx) => prune(tx, this.eventLog, limits));
    this.logger?.info({ schema: this.schema, ...deleted }, 'pruned');
    return deleted.events + deleted.changes + deleted.activity;
  }
}
