import { gatedEventLog } from '../gated-log.js';
import { ReadyCheck } from '../ready-check.js';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
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
  StateChangeQuery,
  Store,
  StoredStateChange,
  SystemRecord,
} from '../types.js';
import { DynamoActivity } from './activity.js';
import type { DynamoClients, DynamoLocation } from './connection.js';
import type { Ctx } from './context.js';
import { DynamoDetection } from './detection.js';
import { DynamoDiffState, type DiffUpdate } from './diff-state.js';
import { DynamoEventLog } from './event-log.js';
import { healthKey, infoPk, META_PK, systemKey } from './keys.js';
import { DYNAMO_LAYOUT_VERSION, layoutVersion, migrateTable, type MigrateResult } from './migrate.js';
import { prune, type PruneLimits } from './prune.js';
import { batchWrite, queryAll } from './requests.js';

function checkSystem(system: string): void {
  if (typeof system !== 'string' || system === '')
    throw new Error(`system id must be a non-empty string, got ${String(system)}`);
}

/** The Store on DynamoDB: the same behaviour as the SQL stores (test/storage/contract.ts). */
export class DynamoStore implements Store {
  private readonly ctx: Ctx;
  private readonly eventLog: DynamoEventLog;
  private readonly diff: DynamoDiffState;
  private readonly activity: DynamoActivity;
  private readonly detection: DynamoDetection;
  private readonly readyCheck = new ReadyCheck();
  private closed = false;
  /** What the last migrate() found (TTL / stream status), for tests and logs. */
  lastMigration: MigrateResult | undefined;

  constructor(
    readonly clients: DynamoClients,
    readonly location: DynamoLocation,
    private readonly logger: Logger | undefined,
  ) {
    this.ctx = { doc: clients.doc, table: location.table, ttlDays: location.ttlDays };
    this.eventLog = new DynamoEventLog(this.ctx);
    this.log = gatedEventLog(this.eventLog, () => this.ready());
    this.diff = new DynamoDiffState(this.ctx);
    this.activity = new DynamoActivity(this.ctx);
    this.detection = new DynamoDetection(this.ctx);
  }

  get table(): string {
    return this.location.table;
  }

  /** Every call checks once that migrate() ran: a clear error instead of "resource not found". */
  private ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`DynamoDB store ${this.table} is closed`));
    return this.readyCheck.run(async () => {
      const version = await layoutVersion(this.clients, this.table);
      if (version !== DYNAMO_LAYOUT_VERSION)
        throw new Error(
          `DynamoDB table ${this.table} is at layout version ${version}, expected ${DYNAMO_LAYOUT_VERSION}: call store.migrate() first`,
        );
    });
  }

  readonly log: EventLog;

  /** No multi-request transaction here: every commit is atomic on its own (see the modules). */
  async batch<T>(fn: () => Promise<T>): Promise<T> {
    await this.ready();
    return fn();
  }

  async migrate(): Promise<void> {
    if (this.closed) throw new Error(`DynamoDB store ${this.table} is closed`);
    this.lastMigration = await migrateTable(this.clients, this.location, this.logger);
    this.readyCheck.markPassed();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.clients.doc.destroy();
      this.clients.client.destroy();
    }
    return Promise.resolve();
  }

  async upsertSystem(s: SystemRecord): Promise<void> {
    await this.ready();
    checkSystem(s.id);
    await this.ctx.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...systemKey(s.id), id: s.id, name: s.name, feedUrl: s.feedUrl, timezone: s.timezone },
      }),
    );
  }

  async listSystems(): Promise<SystemRecord[]> {
    await this.ready();
    const items = await queryAll(this.ctx.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': META_PK, ':p': 'sys#' },
      ConsistentRead: true,
    });
    return items.map((i) => ({
      id: i['id'] as string,
      name: i['name'] as string,
      feedUrl: i['feedUrl'] as string,
      timezone: i['timezone'] as string,
    }));
  }

  async saveFeedHealth(h: FeedHealth): Promise<void> {
    await this.ready();
    checkSystem(h.system);
    await this.ctx.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...healthKey(h.system), h: JSON.stringify(h) } }),
    );
  }

  async feedHealth(system: string): Promise<FeedHealth | null> {
    await this.ready();
    const item = (
      await this.ctx.doc.send(
        new GetCommand({ TableName: this.table, Key: healthKey(system), ConsistentRead: true }),
      )
    ).Item;
    return item === undefined ? null : (JSON.parse(item['h'] as string) as FeedHealth);
  }

  async saveStationInfo(system: string, stations: StationInfo[]): Promise<void> {
    await this.ready();
    checkSystem(system);
    const byId = new Map<string, StationInfo>();
    for (const s of stations) {
      if (typeof s.stationId !== 'string' || s.stationId === '')
        throw new Error(`station id must be a non-empty string, got ${String(s.stationId)}`);
      byId.set(s.stationId, s);
    }
    await batchWrite(
      this.ctx.doc,
      this.table,
      [...byId.values()].map((s) => ({
        PutRequest: {
          Item: {
            pk: infoPk(system),
            sk: s.stationId,
            code: s.code,
            name: s.name,
            lat: s.lat,
            lon: s.lon,
            capacity: s.capacity,
          },
        },
      })),
    );
  }

  async listStationInfo(system: string): Promise<StationInfo[]> {
    await this.ready();
    const items = await queryAll(this.ctx.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': infoPk(system) },
      ConsistentRead: true,
    });
    return items.map((i) => ({
      stationId: i['sk'] as string,
      code: i['code'] as string,
      name: i['name'] as string,
      lat: i['lat'] as number,
      lon: i['lon'] as number,
      capacity: (i['capacity'] as number | null | undefined) ?? null,
    }));
  }

  async loadDiffState(system: string): Promise<DiffState> {
    await this.ready();
    return this.diff.load(system);
  }

  /**
   * Validate and pack the state update (nothing written when it is bad), append the events
   * (idempotent), then write the state delta: "append first, then state", as the interface allows.
   */
  async commitDiff(system: string, events: FeedEvent[], update: DiffUpdate): Promise<LoggedEvent[]> {
    await this.ready();
    checkSystem(system);
    const delta = await this.diff.prepare(system, update);
    const out = await this.eventLog.append(events);
    await this.diff.save(delta, update);
    return out;
  }

  async listStationStatus(system: string): Promise<StationStatus[]> {
    await this.ready();
    return this.diff.listStatus(system);
  }

  async commitActivity(
    system: string,
    consumer: string,
    offset: number,
    increments: SlotCount[],
  ): Promise<void> {
    await this.ready();
    await this.activity.commit(system, consumer, offset, increments);
  }

  async loadActivity(
    system: string,
    fromDay: number,
    toDay?: number,
    stationId?: string,
  ): Promise<SlotCount[]> {
    await this.ready();
    return this.activity.load(system, fromDay, toDay, stationId);
  }

  async loadCheckpoint(consumer: string): Promise<{ offset: number; state: unknown } | null> {
    await this.ready();
    return this.detection.loadCheckpoint(consumer);
  }

  async commitDetection(
    consumer: string,
    offset: number,
    changes: StateChange[],
    checkpoint?: unknown,
  ): Promise<void> {
    await this.ready();
    await this.detection.commit(consumer, offset, changes, checkpoint);
  }

  async saveDetectedStates(system: string, rows: DetectedStateRow[]): Promise<void> {
    await this.ready();
    checkSystem(system);
    await this.detection.saveDetected(system, rows);
  }

  async listDetectedStates(system: string): Promise<DetectedStateRow[]> {
    await this.ready();
    return this.detection.listDetected(system);
  }

  async listStateChanges(query: StateChangeQuery): Promise<StoredStateChange[]> {
    await this.ready();
    return this.detection.listChanges(query);
  }

  async prune(limits: PruneLimits): Promise<number> {
    await this.ready();
    const deleted = await prune(this.ctx, this.eventLog, this.activity, limits);
    this.logger?.info({ table: this.table, ...deleted }, 'pruned');
    return deleted.events + deleted.changes + deleted.activity;
  }
}
