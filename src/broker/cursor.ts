import {
  AckPolicy,
  DeliverPolicy,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { LoggedEvent } from '../events/index.js';
import { decodeEvent } from './codec.js';
import { isConsumerNotFound } from './errors.js';

const NS_PER_SEC = 1_000_000_000;

/**
 * Reads a stream (optionally one subject filter) after a given sequence. Backed by an ephemeral,
 * ack-less pull consumer that is kept while reads continue where the last one ended (the usual
 * catch-up loop), and re-created when a read starts elsewhere. The server forgets it after
 * `inactiveSec` without reads; losing it (NATS restart) only costs a re-creation.
 */
export class StreamCursor {
  private consumer: Consumer | null = null;
  private consumerName: string | null = null;
  /** Stream sequence the consumer has delivered up to (its next message is after this). */
  private position = -1;
  /** Messages left after the last read (its consumer's num_pending), for the lag metric. */
  pending = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly filter: string | null,
    private readonly inactiveSec = 60,
  ) {}

  async read(afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    if (limit <= 0) return [];
    try {
      return await this.readOnce(afterOffset, limit);
    } catch (err) {
      // Whatever failed, the consumer may be gone or half-read: the next read starts a new one.
      this.consumer = null;
      // Gone (expired, NATS restarted with our in-memory consumer): once more at once.
      if (!isConsumerNotFound(err) && !isMissingConsumer(err)) throw err;
      return this.readOnce(afterOffset, limit);
    }
  }

  /** Messages after the last one read, asked of the server now (they keep coming while we are stuck). */
  async pendingNow(): Promise<number> {
    if (this.consumer === null) return this.pending;
    const n = (await this.consumer.info(false)).num_pending;
    // The server's unsigned counter can wrap below zero while a fetch is being delivered: a
    // value past 2^53 is that, not a lag; keep the last sane one.
    return n > Number.MAX_SAFE_INTEGER ? this.pending : n;
  }

  async close(): Promise<void> {
    const name = this.consumerName;
    this.consumer = null;
    this.consumerName = null;
    if (name === null) return;
    await this.jsm.consumers.delete(this.stream, name).catch(() => undefined);
  }

  private async readOnce(afterOffset: number, limit: number): Promise<LoggedEvent[]> {
    if (this.consumer === null || this.position !== afterOffset) await this.reset(afterOffset);
    const consumer = this.consumer!;
    const info = await consumer.info(false);
    // A value past 2^53 is the server's unsigned counter wrapped below zero, not messages.
    const pending = info.num_pending > Number.MAX_SAFE_INTEGER ? 0 : info.num_pending;
    const want = Math.min(limit, pending);
    this.pending = pending;
    if (want === 0) return [];
    const out: LoggedEvent[] = [];
    const messages = await consumer.fetch({ max_messages: want, expires: 5_000 });
    for await (const m of messages) {
      out.push(decodeEvent(m.data, m.seq));
      this.position = m.seq;
    }
    this.pending = Math.max(0, this.pending - out.length);
    return out;
  }

  private async reset(afterOffset: number): Promise<void> {
    await this.close();
    const info = await this.jsm.consumers.add(this.stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterOffset + 1,
      inactive_threshold: this.inactiveSec * NS_PER_SEC,
      mem_storage: true,
      num_replicas: 1,
      ...(this.filter !== null ? { filter_subject: this.filter } : {}),
    });
    this.consumerName = info.name;
    this.consumer = await this.js.consumers.get(this.stream, info.name);
    this.position = afterOffset;
  }
}

function isMissingConsumer(err: unknown): boolean {
  return err instanceof Error && /consumer not found|no responders|consumer.*deleted/i.test(err.message);
}
