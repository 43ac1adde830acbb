import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { JetStreamLog } from './event-log.js';
import { isWrongLastSequence } from './errors.js';
import { ensureStream } from './streams.js';
import { checkToken, hash32 } from './subjects.js';

/**
 * Leases and worker membership for `process` workers, in a JetStream stream with one message per
 * subject (max_msgs_per_subject = 1):
 * - `<prefix>.<group>.w.<worker>`: heartbeat of a live worker;
 * - `<prefix>.<group>.l.<system>`: the lease of a system, `{ owner }` (null = free).
 * Writes are compare-and-set on the subject's last sequence (Nats-Expected-Last-Subject-Sequence),
 * so two workers never both win a lease. A lease or heartbeat expires `ttlMs` after the server
 * stored its last renewal; holders stop working on a system when their last renewal is older than
 * half the TTL (see `Lease.valid`), well before anyone else may take it (clocks assumed in sync
 * within a few seconds, as NTP gives).
 */
export interface Lease {
  system: string;
  /** Sequence of our last write, for the next compare-and-set. */
  seq: number;
  /** Local time of the last successful renewal. */
  renewedAtMs: number;
}

interface LeaseBody {
  owner: string | null;
}

export class LeaseTable {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly base: string,
    readonly workerId: string,
    readonly ttlMs: number,
  ) {}

  static async open(
    log: JetStreamLog,
    opts: { group: string; workerId: string; ttlMs: number },
  ): Promise<LeaseTable> {
    checkToken(opts.group, 'worker group');
    checkToken(opts.workerId, 'worker id');
    await ensureStream(log.jsm, {
      name: log.layout.leasesStream,
      subjects: [`${log.layout.leasesPrefix}.>`],
      maxMsgsPerSubject: 1,
    });
    return new LeaseTable(
      log.js,
      log.jsm,
      log.layout.leasesStream,
      `${log.layout.leasesPrefix}.${opts.group}`,
      opts.workerId,
      opts.ttlMs,
    );
  }

  /** Still ours to act on: renewed within half the TTL. */
  valid(lease: Lease, nowMs = Date.now()): boolean {
    return nowMs - lease.renewedAtMs < this.ttlMs / 2;
  }

  async heartbeat(): Promise<void> {
    await this.js.publish(`${this.base}.w.${this.workerId}`, JSON.stringify({ workerId: this.workerId }));
  }

  /** Workers whose heartbeat is younger than the TTL, sorted. */
  async liveWorkers(nowMs = Date.now()): Promise<string[]> {
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${this.base}.w.>` });
    const live: string[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
      if (m !== null && nowMs - m.time.getTime() < this.ttlMs)
        live.push(subject.slice(subject.lastIndexOf('.') + 1));
    }
    return live.sort();
  }

  /** Takes the lease when free, expired or already ours; null when another live worker holds it. */
  async acquire(system: string, nowMs = Date.now()): Promise<Lease | null> {
    const subject = this.leaseSubject(system);
    const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    if (m !== null) {
      const body = m.json<LeaseBody>();
      const expired = nowMs - m.time.getTime() >= this.ttlMs;
      if (body.owner !== null && body.owner !== this.workerId && !expired) return null;
    }
    return this.write(system, m?.seq ?? 0, this.workerId);
  }

  /** Renews a lease we hold; null when it was lost (someone took it after it expired). */
  async renew(lease: Lease): Promise<Lease | null> {
    return this.write(lease.system, lease.seq, this.workerId);
  }

  /** Frees a lease we hold so that another worker may take it at once. */
  async release(lease: Lease): Promise<void> {
    await this.write(lease.system, lease.seq, null);
  }

  /** Rendezvous (highest random weight) hashing: every worker computes the same owner. */
  static preferredOwner(system: string, workers: readonly string[]): string | null {
    let best: string | null = null;
    let bestScore = -1;
    for (const w of workers) {
      const score = hash32(`${w}|${system}`);
      if (score > bestScore || (score === bestScore && best !== null && w < best)) {
        best = w;
        bestScore = score;
      }
    }
    return best;
  }

  private leaseSubject(system: string): string {
    return `${this.base}.l.${checkToken(system, 'system id')}`;
  }

  private async write(system: string, lastSeq: number, owner: string | null): Promise<Lease | null> {
    const startedMs = Date.now();
    try {
      const ack = await this.js.publish(
        this.leaseSubject(system),
        JSON.stringify({ owner } satisfies LeaseBody),
        {
          expect: { lastSubjectSequence: lastSeq },
        },
      );
      return { system, seq: ack.seq, renewedAtMs: startedMs };
    } catch (err) {
      if (isWrongLastSequence(err)) return null;
      throw err;
    }
  }
}
