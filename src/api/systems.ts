/**
 * SystemContexts: one ApiContext per system of the store (its own snapshot cache, activity
 * service and LiveBus), built on the first request for that system and kept. The default system
 * keeps the context createApiServer was given (its LiveBus is fed by the pipeline in `watch`).
 *
 * A context whose LiveBus nobody publishes to (every system in `serve`, the other systems in
 * `watch`) is refreshed from the store: at most once per `refreshMs`, the system's last document
 * time and newest state change are read; when they moved, the LiveBus is bumped (so the snapshot
 * cache rebuilds) and the new state changes are published (so /live pushes them).
 */
import type { SystemRecord } from '../storage/index.js';
import { ActivityService } from './activity.js';
import type { ApiContext } from './context.js';
import { LiveBus } from './live.js';
import { SnapshotCache } from './snapshot.js';

const SYSTEM_LIST_TTL_MS = 5_000;
/** State changes published per refresh at most: older ones are in the store and the history. */
const MAX_CHANGES_PER_REFRESH = 200;

interface Refresher {
  lastCheckMs: number;
  inflight: Promise<void> | null;
  lastDocumentSec: number | null;
  /** Id of the newest state change seen; null before the first check (nothing is replayed). */
  lastChangeId: number | null;
}

export interface SystemContextsOptions {
  /** Also refresh the default system from the store (`serve`: no pipeline in this process). */
  refreshDefault: boolean;
  /** Minimum time between two store reads for one system; default 1 s. */
  refreshMs?: number;
}

export class SystemContexts {
  private readonly contexts = new Map<string, ApiContext>();
  private readonly refreshers = new Map<string, Refresher>();
  private list: { atMs: number; value: Promise<SystemRecord[]> } | null = null;
  private readonly refreshMs: number;

  constructor(
    readonly base: ApiContext,
    private readonly opts: SystemContextsOptions,
  ) {
    this.refreshMs = opts.refreshMs ?? 1_000;
    this.contexts.set(base.systemId, base);
    if (opts.refreshDefault) {
      this.refreshers.set(base.systemId, newRefresher());
      base.refresh = () => this.refresh(base.systemId);
    }
  }

  /** Systems of the store, sorted by id (re-read at most every few seconds). */
  systems(): Promise<SystemRecord[]> {
    const now = Date.now();
    if (this.list === null || now - this.list.atMs > SYSTEM_LIST_TTL_MS) {
      const value = this.base.store
        .listSystems()
        .then((all) => [...all].sort((a, b) => a.id.localeCompare(b.id)));
      value.catch(() => {
        if (this.list?.value === value) this.list = null;
      });
      this.list = { atMs: now, value };
    }
    return this.list.value;
  }

  /** The context of `id`, up to date with the store; null when the store has no such system. */
  async get(id: string): Promise<ApiContext | null> {
    let ctx = this.contexts.get(id);
    if (ctx === undefined) {
      const record = await this.record(id);
      if (record === undefined) return null;
      ctx = this.contexts.get(id) ?? this.create(record);
    }
    await this.refresh(id);
    return ctx;
  }

  /** Whether the store has system `id` (without building its context). */
  async has(id: string): Promise<boolean> {
    return this.contexts.has(id) || (await this.record(id)) !== undefined;
  }

  private async record(id: string): Promise<SystemRecord | undefined> {
    const record = (await this.systems()).find((s) => s.id === id);
    if (record !== undefined) return record;
    // Registered since the list was read (a collector just started)? One fresh look.
    this.list = null;
    return (await this.systems()).find((s) => s.id === id);
  }

  /** Reads the store for `id` when the last read is older than refreshMs (shared by concurrent callers). */
  async refresh(id: string): Promise<void> {
    const r = this.refreshers.get(id);
    const ctx = this.contexts.get(id);
    if (r === undefined || ctx === undefined) return;
    if (r.inflight === null && Date.now() - r.lastCheckMs >= this.refreshMs) {
      r.lastCheckMs = Date.now();
      r.inflight = this.check(ctx, r).finally(() => {
        r.inflight = null;
      });
    }
    // A failing store must not fail the request: the snapshot cache keeps its last good picture.
    await r.inflight?.catch((err: unknown) =>
      ctx.logger.warn({ err, system: id }, 'api: store refresh failed'),
    );
  }

  close(): void {
    for (const [id, ctx] of this.contexts) if (id !== this.base.systemId) ctx.snapshots.close();
  }

  private create(record: SystemRecord): ApiContext {
    const live = new LiveBus();
    const { store, logger } = this.base;
    const ctx: ApiContext = {
      ...this.base,
      refresh: () => this.refresh(record.id),
      systemId: record.id,
      timezone: record.timezone,
      live,
      snapshots: new SnapshotCache({ store, systemId: record.id, timezone: record.timezone, live, logger }),
      activity: new ActivityService(store, record.id, record.timezone),
    };
    this.contexts.set(record.id, ctx);
    this.refreshers.set(record.id, newRefresher());
    return ctx;
  }

  private async check(ctx: ApiContext, r: Refresher): Promise<void> {
    const { store, systemId, live } = ctx;
    const [health, newest] = await Promise.all([
      store.feedHealth(systemId),
      store.listStateChanges({ system: systemId, limit: MAX_CHANGES_PER_REFRESH }),
    ]);
    const docSec = health?.lastDocumentSec ?? null;
    const newestId = newest[0]?.id ?? 0;
    if (r.lastChangeId !== null && newestId > r.lastChangeId) {
      const fresh = newest.filter((c) => c.id > r.lastChangeId!).reverse();
      for (const { id: _id, ...change } of fresh) live.publishStateChange(change);
    }
    if (docSec !== null && docSec !== r.lastDocumentSec) live.publishSnapshot(systemId, docSec);
    r.lastDocumentSec = docSec;
    r.lastChangeId = newestId;
  }
}

function newRefresher(): Refresher {
  return { lastCheckMs: 0, inflight: null, lastDocumentSec: null, lastChangeId: null };
}
