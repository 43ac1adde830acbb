import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { consumerToken } from './subjects.js';

/** Where committed consumer offsets live: the Store's log (preferred) or this JetStream book. */
export interface OffsetBook {
  consumerOffset(consumer: string): Promise<number>;
  commitOffset(consumer: string, offset: number): Promise<void>;
}

/**
 * Offsets kept in a JetStream stream with one message per consumer (max_msgs_per_subject = 1),
 * read with a last-by-subject get. For a log used on its own; the pipeline keeps its offsets in
 * the Store instead, committed in the same transaction as their effects (exactly once).
 */
export class JetStreamOffsetBook implements OffsetBook {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    private readonly prefix: string,
  ) {}

  private subject(consumer: string): string {
    return `${this.prefix}.${consumerToken(consumer)}`;
  }

  async consumerOffset(consumer: string): Promise<number> {
    const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject(consumer) });
    if (m === null) return 0;
    const value = Number(m.string());
    return Number.isSafeInteger(value) ? value : 0;
  }

  async commitOffset(consumer: string, offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`offset must be a whole number >= 0, got ${offset}`);
    await this.js.publish(this.subject(consumer), String(offset));
  }
}
