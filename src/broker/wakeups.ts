import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { Logger } from '../log/index.js';
import type { JetStreamLog } from './event-log.js';
import { SYSTEM_PARTITION } from './subjects.js';

/**
 * Tells a `process` worker which systems have new documents, so that it reads only those instead
 * of asking JetStream about each of its systems in turn. One ordered consumer on the events
 * stream, filtered to the `_system` partition of every system (where each document's `snapshot`
 * event goes, last, once its station events are stored) and delivering headers only: a few bytes
 * per document. Delivery comes from the stream, so a system is announced only once its events can
 * be read. Best effort: the worker still reads every system now and then (a lost consumer, a
 * station_information change without a new document).
 */
export class DocumentWakeups {
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  private done: Promise<void> | null = null;
  /** False until the consumer is open, and after it failed (the worker then polls as before). */
  listening = false;

  constructor(
    private readonly log: JetStreamLog,
    private readonly onDocument: (system: string) => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listening = false;
    await this.messages?.close().catch(() => undefined);
    await this.done;
  }

  private async run(): Promise<void> {
    const filter = `${this.log.layout.eventsPrefix}.*.${SYSTEM_PARTITION}`;
    while (!this.stopped) {
      try {
        const consumer = await this.log.js.consumers.get(this.log.layout.eventsStream, {
          filter_subjects: filter,
          deliver_policy: DeliverPolicy.New,
          headers_only: true,
        });
        this.messages = await consumer.consume();
        if (this.stopped) break;
        this.listening = true;
        for await (const m of this.messages) {
          // <prefix>.<system>._system
          const end = m.subject.lastIndexOf('.');
          this.onDocument(m.subject.slice(m.subject.lastIndexOf('.', end - 1) + 1, end));
        }
      } catch (err) {
        if (this.stopped) break;
        this.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'cannot follow new documents: reading every system in turn until it works again',
        );
      }
      this.listening = false;
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
