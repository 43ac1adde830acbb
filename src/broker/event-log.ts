import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { eventKey, type FeedEvent, type LoggedEvent } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { EventLog } from '../storage/index.js';
import { decodeEvent, encodeEvent, validateEvent } from './codec.js';
import { connectNats } from './connection.js';
import { StreamCursor } from './cursor.js';
import { brokerLayout, type BrokerLayout } from './layout.js';
import { JetStreamOffsetBook, type OffsetBook } from './offsets.js';
import { deleteStreamIfExists, ensureStream } from './streams.js';
import { checkToken, EventSubjects } from './subjects.js';

export interface JetStreamLogOptions {
  /** nats://host:port; ignored when `connection` is given. */
  url?: string;
  /** An open connection to share (the log then does not close it). */
  connection?: NatsConnection;
  /** Events stream name; default DOCKWATCH_EVENTS. Other names get their own subjects (see layout.ts). */
  stream?: string;
  subjectPrefix?: string;
  /** Station partitions per system; fixed for the life of a stream. Default 16. */
  partitions?: number;
  /**
   * Msg-id duplicate suppression window. The server keeps every id of the window in memory, so
   * it is bounded; the collector's crash recovery reads the stream back and does not depend on
   * it. Default 2 h.
   */
  duplicateWindowSec?: number;
  /**
   * Stream retention (max age); 0 = keep forever. Given, it is applied to an existing stream too;
   * not given, a new stream keeps everything and an existing one keeps its setting.
   */
  maxAgeSec?: number;
  /**
   * Where consumer offsets live. Pass the Store's log to keep them with the effects (what the
   * pipeline does); default: a JetStream stream with one message per consumer.
   */
  offsets?: OffsetBook;
  /** Publishes in flight before waiting for acks. */
  publishWindow?: number;
  logger?: Logger;
}

const DEFAULT_PARTITIONS = 16;
const DEFAULT_DUPLICATE_WINDOW_SEC = 7_200;
const DEFAULT_PUBLISH_WINDOW = 256;

/**
 * The event log on NATS JetStream.
 * - one message per event, subject `<prefix>.<system>.<partition>`, message id = eventKey(e):
 *   JetStream drops a re-published event inside the duplicate window and acks it as a duplicate
 *   with the original sequence, so `append` is idempotent like the SQLite log;
 * - offset = stream sequence: strictly increasing, gapless for the whole stream, NOT gapless for
 *   one system's view (other systems' events sit in between). Consumers only rely on "increasing".
 * Order: publishes are pipelined on one connection (the server stores them in arrival order),
 * and a `snapshot` event (which closes a document) is only sent once everything before it is
 * acknowledged, so a retry after a lost connection cannot put a document's snapshot before its
 * station events.
 */
export class JetStreamLog implements EventLog {
  readonly subjects: EventSubjects;
  private readonly cursor: StreamCursor;
  private readonly views = new Set<SystemEventLog>();
  private readonly publishWindow: number;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly layout: BrokerLayout,
    partitions: number,
    private readonly offsets: OffsetBook,
    private readonly ownsConnection: boolean,
    publishWindow: number,
  ) {
    this.subjects = new EventSubjects(layout.eventsPrefix, partitions);
    this.cursor = new StreamCursor(js, jsm, layout.eventsStream, null);
    this.publishWindow = publishWindow;
  }

  static async open(opts: JetStreamLogOptions): Promise<JetStreamLog> {
    const layout = brokerLayout(opts.stream, opts.subjectPrefix);
    let nc = opts.connection;
    const owns = nc === undefined;
    nc ??= await connectNats({
      url: opts.url ?? 'nats://127.0.0.1:4222',
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    try {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      await ensureStream(jsm, {
        name: layout.eventsStream,
        subjects: [`${layout.eventsPrefix}.>`],
        duplicateWindowSec: opts.duplicateWindowSec ?? DEFAULT_DUPLICATE_WINDOW_SEC,
        ...(opts.maxAgeSec !== undefined ? { maxAgeSec: opts.maxAgeSec } : {}),
      });
      let offsets = opts.offsets;
      if (offsets === undefined) {
        await ensureStream(jsm, {
          name: layout.offsetsStream,
          subjects: [`${layout.offsetsPrefix}.>`],
          maxMsgsPerSubject: 1,
        });
        offsets = new JetStreamOffsetBook(js, jsm, layout.offsetsStream, layout.offsetsPrefix);
      }
      return new JetStreamLog(
        nc,
        js,
        jsm,
        layout,
        opts.partitions ?? DEFAULT_PARTITIONS,
        offsets,
        owns,
        opts.publishWindow ?? DEFAULT_PUBLISH_WINDOW,
      );
    } catch (err) {
      if (owns) await nc.close();
      throw err;
    }
  }

  async append(events: FeedEvent[]): Promise<LoggedEvent[]> {
    // Refuse a bad batch whole, before anything is published.
    for (const e of events) validateEvent(e);
    const out: LoggedEvent[] = [];
    let pending: { event: FeedEvent; ack: Promise<PubAck> }[] = [];
    const settle = async (): Promise<void> => {
      const acks = await Promise.allSettled(pending.map((p) => p.ack));
      const batch = pending;
      pending = [];
      let failure: Error | null = null;
      for (let i = 0; i < acks.length; i++) {
        const r = acks[i]!;
        if (r.status === 'rejected')
          failure ??= r.reason instanceof Error ? r.reason : new Error(String(r.reason));
        else if (!r.value.duplicate) out.push({ ...batch[i]!.event, offset: r.value.seq });
      }
      if (failure !== null) throw failure;
    };
    for (const event of events) {
      if (event.type === 'snapshot' || pending.length >= this.publishWindow) await settle();
      pending.push({
        event,
        ack: this.js.publish(this.subjects.of(event), encodeEvent(event), { msgID: eventKey(event) }),
      });
    }
    await settle();
    return out;
  }

  read(afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    return this.cursor.read(afterOffset, limit);
  }

  async lastOffset(): Promise<number> {
    const info = await this.jsm.streams.info(this.layout.eventsStream);
    return info.state.last_seq;
  }

  consumerOffset(consumer: string): Promise<number> {
    return this.offsets.consumerOffset(consumer);
  }

  commitOffset(consumer: string, offset: number): Promise<void> {
    return this.offsets.commitOffset(consumer, offset);
  }

  /**
   * One system's events (subject filter `<prefix>.<system>.>`), offsets still stream sequences.
   * `offsets`: where this view's consumers keep their offsets (the Store's log for the pipeline).
   */
  forSystem(system: string, offsets?: OffsetBook): SystemEventLog {
    checkToken(system, 'system id');
    const view = new SystemEventLog(this, system, offsets ?? this.offsets);
    this.views.add(view);
    return view;
  }

  /**
   * Every event of one system stored at or after `since` (server time): what a collector published
   * of a document before it died. Small by construction (one document's events).
   */
  async readSystemSince(system: string, since: Date, maxEvents = 1_000_000): Promise<LoggedEvent[]> {
    const info = await this.jsm.consumers.add(this.layout.eventsStream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
      filter_subject: this.subjects.ofSystem(checkToken(system, 'system id')),
      inactive_threshold: 30 * 1_000_000_000,
      mem_storage: true,
    });
    try {
      const consumer = await this.js.consumers.get(this.layout.eventsStream, info.name);
      const out: LoggedEvent[] = [];
      let pending = Math.min(info.num_pending, maxEvents);
      while (pending > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, 1_000), expires: 5_000 });
        let got = 0;
        for await (const m of batch) {
          out.push(decodeEvent(m.data, m.seq));
          got++;
        }
        if (got === 0) break;
        pending -= got;
      }
      return out;
    } finally {
      await this.jsm.consumers.delete(this.layout.eventsStream, info.name).catch(() => undefined);
    }
  }

  /** @internal */
  forget(view: SystemEventLog): void {
    this.views.delete(view);
  }

  /** Stops reading (ephemeral consumers deleted) and closes the connection if the log opened it. */
  async close(): Promise<void> {
    for (const v of [...this.views]) await v.close();
    await this.cursor.close().catch(() => undefined);
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }

  /** Deletes every stream of this layout (tests, `dockwatch` never calls it). */
  async destroy(): Promise<void> {
    for (const name of [
      this.layout.eventsStream,
      this.layout.offsetsStream,
      this.layout.snapshotsStream,
      this.layout.leasesStream,
    ]) {
      await deleteStreamIfExists(this.jsm, name);
    }
  }
}

/** A system's slice of the JetStream log; append goes to the shared log. */
export class SystemEventLog implements EventLog {
  private readonly cursor: StreamCursor;

  constructor(
    private readonly log: JetStreamLog,
    readonly system: string,
    private readonly offsets: OffsetBook,
  ) {
    this.cursor = new StreamCursor(log.js, log.jsm, log.layout.eventsStream, log.subjects.ofSystem(system));
  }

  append(events: FeedEvent[]): Promise<LoggedEvent[]> {
    for (const e of events) {
      if (e.system !== this.system)
        throw new Error(`event of system ${e.system} appended to the log view of ${this.system}`);
    }
    return this.log.append(events);
  }

  read(afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    return this.cursor.read(afterOffset, limit);
  }

  /** This system's events not yet read after the last read. */
  get pending(): number {
    return this.cursor.pending;
  }

  /** Same, asked of the server now. */
  pendingNow(): Promise<number> {
    return this.cursor.pendingNow();
  }

  /** Sequence of this system's newest event, 0 when it has none. */
  async lastOffset(): Promise<number> {
    const m = await this.log.jsm.streams.getMessage(this.log.layout.eventsStream, {
      last_by_subj: this.log.subjects.ofSystem(this.system),
    });
    return m?.seq ?? 0;
  }

  consumerOffset(consumer: string): Promise<number> {
    return this.offsets.consumerOffset(consumer);
  }

  commitOffset(consumer: string, offset: number): Promise<void> {
    return this.offsets.commitOffset(consumer, offset);
  }

  async close(): Promise<void> {
    this.log.forget(this);
    await this.cursor.close().catch(() => undefined);
  }
}

export function openJetStreamLog(opts: JetStreamLogOptions): Promise<JetStreamLog> {
  return JetStreamLog.open(opts);
}
