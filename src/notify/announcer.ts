/**
 * The announcer turns state changes into announcements, each once and only after it held.
 *
 * It reads the state changes the detection consumer committed (Store.listStateChanges, by id,
 * from its own cursor) and keeps, per station, the last state it announced and the latest change
 * still waiting. A waiting change is announced when it has held `holdSec` of document time: when
 * the feed's time passed `timeSec + holdSec`, or when the station's next change came later than
 * that. A change reverted before (ok → locked → ok within the hold) leaves the station at the
 * state already announced: nothing is said. Document time, not the wall clock, so replay and live
 * watch announce the same things.
 *
 * Announcements, their outbox rows, the stations' memory and the cursor are committed in one
 * transaction, and announcements are unique by (system, station, change offset, to): a restart
 * redoes a step at most, and a redone step inserts nothing twice.
 */
import type { StationInfo } from '../feed/model.js';
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import type { Store, StoredStateChange } from '../storage/index.js';
import { pushWants, webhookWants } from './matching.js';
import { webhookPayload } from './messages.js';
import { notifyMetrics } from './metrics.js';
import type { NewAnnouncement, NotifyStore, StationAnnounceState } from './types.js';

export interface AnnouncerOptions {
  system: string;
  /** The pipeline's store, read only. */
  store: Store;
  notifyStore: NotifyStore;
  holdSec: number;
  maxLagSec: number;
  publicUrl: string;
  logger?: Logger;
}

/** The first page is small: most steps find nothing new, and every step reads it. */
const FIRST_PAGE = 16;
const PAGE = 500;

/** `learning` is the detector's warm-up, not news; leaving it for `ok` is not news either. */
export function worthAnnouncing(from: string, to: string): boolean {
  return to !== 'learning' && !(from === 'learning' && to === 'ok') && from !== to;
}

export class Announcer {
  private stations = new Map<string, StationAnnounceState>();
  private cursor: number | null = null;
  private loaded = false;
  private readonly log: Logger;

  constructor(private readonly opts: AnnouncerOptions) {
    this.log = opts.logger ?? silentLogger;
  }

  /** Latest document time of the system: the newest event of the log, else the feed health. */
  async documentTimeSec(): Promise<number | null> {
    const { store, system } = this.opts;
    const last = await store.log.lastOffset();
    if (last > 0) {
      const [event] = await store.log.read(last - 1, 1);
      if (event !== undefined && event.system === system) return event.timeSec;
    }
    return (await store.feedHealth(system))?.lastDocumentSec ?? null;
  }

  /** One step: read new changes, announce what held. Returns the number of announcements made. */
  async tick(): Promise<number> {
    if (!this.loaded) await this.load();
    try {
      return await this.step();
    } catch (err) {
      // The memory is ahead of the database now: reload it at the next step.
      this.loaded = false;
      throw err;
    }
  }

  private async step(): Promise<number> {
    const { notifyStore, system } = this.opts;
    if (this.cursor === null) {
      // First run on this database: history is not news. Start after the newest change.
      const [newest] = await this.opts.store.listStateChanges({ system, limit: 1 });
      this.cursor = newest?.id ?? 0;
      await notifyStore.commitAnnouncer(
        system,
        { cursor: this.cursor, stations: [], announcements: [] },
        Date.now(),
      );
    }
    const fresh = await this.readNewChanges(this.cursor);
    const docNow = await this.documentTimeSec();
    const changed = new Map<string, StationAnnounceState>();
    const held: { st: StationAnnounceState; change: StoredStateChange; from: string; heldSec: number }[] = [];
    const settle = (st: StationAnnounceState, heldSec: number): void => {
      const change = st.pending!;
      const from = st.announced;
      st.announced = change.to;
      st.pending = null;
      if (worthAnnouncing(from, change.to)) held.push({ st, change, from, heldSec });
    };

    for (const c of fresh) {
      let st = this.stations.get(c.stationId);
      if (st === undefined) {
        st = { stationId: c.stationId, announced: c.from, pending: null };
        this.stations.set(c.stationId, st);
      }
      if (st.pending !== null && c.timeSec - st.pending.timeSec >= this.opts.holdSec) {
        settle(st, st.pending.timeSec + this.opts.holdSec);
      }
      st.pending = c.to === st.announced ? null : c;
      changed.set(st.stationId, st);
    }
    if (docNow !== null) {
      for (const st of this.stations.values()) {
        if (st.pending !== null && docNow - st.pending.timeSec >= this.opts.holdSec) {
          settle(st, st.pending.timeSec + this.opts.holdSec);
          changed.set(st.stationId, st);
        }
      }
    }
    if (fresh.length === 0 && changed.size === 0) return 0;

    const announcements = held.length > 0 ? await this.fanOut(held, docNow ?? 0) : [];
    const cursor = fresh.length > 0 ? fresh[fresh.length - 1]!.id : this.cursor;
    const ids = await notifyStore.commitAnnouncer(
      system,
      { cursor, stations: [...changed.values()], announcements },
      Date.now(),
    );
    this.cursor = cursor;
    for (const a of announcements)
      notifyMetrics.announcements.inc({ system, to: a.to, stale: a.stale ? 'yes' : 'no' });
    if (ids.length > 0) this.log.info({ announcements: ids.length }, 'notify: state changes announced');
    return ids.length;
  }

  private async load(): Promise<void> {
    const saved = await this.opts.notifyStore.loadAnnouncer(this.opts.system);
    this.cursor = saved.cursor;
    this.stations = new Map(saved.stations.map((s) => [s.stationId, s]));
    this.loaded = true;
  }

  /** Changes with id > cursor, oldest first (the store pages newest first). */
  private async readNewChanges(cursor: number): Promise<StoredStateChange[]> {
    const fresh: StoredStateChange[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const limit = beforeId === undefined ? FIRST_PAGE : PAGE;
      const page = await this.opts.store.listStateChanges({ system: this.opts.system, beforeId, limit });
      let reached = false;
      for (const c of page) {
        if (c.id <= cursor) {
          reached = true;
          break;
        }
        fresh.push(c);
      }
      if (reached || page.length < limit) break;
      beforeId = page[page.length - 1]!.id;
    }
    return fresh.reverse();
  }

  private async fanOut(
    held: { change: StoredStateChange; from: string; heldSec: number }[],
    docNow: number,
  ): Promise<NewAnnouncement[]> {
    const { store, notifyStore, system } = this.opts;
    const [webhooks, pushes, infos] = await Promise.all([
      notifyStore.listWebhooks(system),
      notifyStore.listPushSubscriptions(system),
      store.listStationInfo(system),
    ]);
    const infoById = new Map<string, StationInfo>(infos.map((i) => [i.stationId, i]));
    return held.map(({ change, from, heldSec }) => {
      const info = infoById.get(change.stationId);
      const deliveries: NewAnnouncement['deliveries'] = [];
      for (const w of webhooks) {
        if (webhookWants(w, change.stationId, change.to, info))
          deliveries.push({ channel: 'webhook', targetId: w.id });
      }
      for (const p of pushes)
        if (pushWants(p, change.stationId)) deliveries.push({ channel: 'push', targetId: p.id });
      return {
        system,
        stationId: change.stationId,
        changeOffset: change.offset,
        to: change.to,
        from,
        timeSec: change.timeSec,
        heldSec,
        payload: webhookPayload(change, from, heldSec, info, this.opts.publicUrl),
        stale: docNow - heldSec > this.opts.maxLagSec,
        deliveries,
      };
    });
  }
}
