import { hostname } from 'node:os';
import {
  brokerMetrics,
  DocumentWakeups,
  LeaseTable,
  LogReadError,
  SystemRunner,
  type JetStreamLog,
  type Lease,
} from '../broker/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../storage/index.js';

export interface ProcessServiceOptions {
  store: Store;
  log: JetStreamLog;
  logger: Logger;
  detector: string;
  minHistoryDays: number;
  detectorOptions?: Record<string, unknown>;
  checkpointEverySnapshots?: number;
  /** Workers of one group share the systems; default "process". */
  group?: string;
  /** Unique per worker; default <host>-<pid>. */
  workerId?: string;
  /** A dead worker's systems move after this; default 15 s. */
  leaseTtlMs?: number;
  /**
   * Without document wake-ups (their consumer not open yet, or failed): pause when no system had
   * new events; default 200 ms.
   */
  idleMs?: number;
  /** With wake-ups: every owned system is still read this often (a missed wake-up); default 5 s. */
  sweepMs?: number;
  /** Systems read and processed at once: one slow system must not hold the others; default 4. */
  concurrency?: number;
  /** Events per read and commit; default 2,000. */
  batchSize?: number;
  /** Only these systems (default: every system in the Store, as collectors register them). */
  systems?: readonly string[];
  /** How often the consumer lag metric is asked of JetStream; default 2 s. */
  lagEveryMs?: number;
}

const DEFAULT_TIME_ZONE = 'Europe/Paris';

/**
 * `dockwatch process`: consumes the JetStream event log and runs the activity and detection
 * consumers. N workers split the systems: each system has a lease (LeaseTable) held by one worker,
 * chosen by rendezvous hashing over the live workers, so adding a worker moves ~1/N of the systems
 * and a dead worker's systems move to the others when its leases expire. The unit of work is a
 * system because a system's consumers keep in-memory state (activity model, detector) that must
 * see all its events in order.
 */
export class ProcessService {
  readonly workerId: string;
  private leases: LeaseTable | null = null;
  /** Leases held (renewed by the timer, also while a runner is still opening). */
  private readonly held = new Map<string, Lease>();
  private readonly owned = new Map<string, SystemRunner>();
  private readonly lost = new Set<string>();
  /** Systems with a new document (wake-ups) or more to read (a full batch): read them next. */
  private readonly dirty = new Set<string>();
  private wakeups: DocumentWakeups | null = null;
  private wakeLoop: (() => void) | null = null;
  private renewing = false;
  private stopped = false;
  private loopDone: Promise<void> | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private lagTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  private readonly ttlMs: number;

  constructor(private readonly opts: ProcessServiceOptions) {
    this.workerId = opts.workerId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
    this.ttlMs = opts.leaseTtlMs ?? 15_000;
    this.log = opts.logger.child({ worker: this.workerId });
  }

  /** Systems this worker currently processes. */
  systems(): string[] {
    return [...this.owned.keys()].sort();
  }

  async start(): Promise<void> {
    this.leases = await LeaseTable.open(this.opts.log, {
      group: this.opts.group ?? 'process',
      workerId: this.workerId,
      ttlMs: this.ttlMs,
    });
    await this.leases.heartbeat();
    this.wakeups = new DocumentWakeups(this.opts.log, (system) => this.markDirty(system), this.log);
    this.wakeups.start();
    // Renewals on their own timer: a long catch-up must not let the leases expire.
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.ttlMs / 5)));
    this.lagTimer = setInterval(() => void this.reportLag(), this.opts.lagEveryMs ?? 2_000);
    this.lagTimer.unref();
    this.loopDone = this.loop();
    this.log.info({ leaseTtlMs: this.ttlMs }, 'process worker started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.wakeLoop?.();
    await this.wakeups?.stop();
    await this.loopDone;
    for (const system of [...this.owned.keys()]) await this.handOver(system);
    this.log.info('process worker stopped: checkpoints saved, leases released');
  }

  /**
   * Reads the systems that have something new, a few at once. With wake-ups, a system is read when
   * its document arrives (and every `sweepMs` regardless); without, every system is read in turn,
   * pausing `idleMs` when none had anything. Asking JetStream about each of ~100 systems in turn,
   * one after the other, cost nats-server a third of a core and made a document wait for the
   * whole round, behind every other system's processing (docs/performance.md §6a, session 3).
   */
  private async loop(): Promise<void> {
    let nextRebalanceMs = 0;
    let nextSweepMs = 0;
    while (!this.stopped) {
      try {
        if (Date.now() >= nextRebalanceMs) {
          await this.rebalance();
          nextRebalanceMs = Date.now() + Math.floor(this.ttlMs / 3);
        }
        const listening = this.wakeups?.listening === true;
        let systems: string[];
        if (!listening || Date.now() >= nextSweepMs) {
          systems = [...this.owned.keys()];
          nextSweepMs = Date.now() + (this.opts.sweepMs ?? 5_000);
        } else systems = [...this.dirty].filter((s) => this.owned.has(s));
        this.dirty.clear();
        const done = await this.stepAll(systems);
        if (this.dirty.size > 0) continue;
        // Not listening yet: a first wake-up (the consumer just opened) ends the pause early too.
        if (!listening) {
          if (done === 0) await this.waitForWork(this.opts.idleMs ?? 200);
        } else await this.waitForWork(Math.min(nextSweepMs, nextRebalanceMs) - Date.now());
      } catch (err) {
        this.log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'process worker step failed: retrying',
        );
        await sleep(1_000);
      }
    }
  }

  /**
   * One step of each system, `concurrency` at a time. A system whose processing failed is rebuilt
   * from the Store (its memory may be ahead of what was committed); one whose read failed is only
   * read again (nothing was applied). Only that system: rebuilding all of them after one failure
   * (as before) re-opened ~100 systems, 90 s without processing under load (performance.md §6a).
   * The first failure is rethrown once the others are done.
   */
  private async stepAll(systems: readonly string[]): Promise<number> {
    const batchSize = this.opts.batchSize ?? 2_000;
    let done = 0;
    let next = 0;
    const failures: Error[] = [];
    const lane = async (): Promise<void> => {
      while (next < systems.length && !this.stopped) {
        const system = systems[next++]!;
        const runner = this.owned.get(system);
        if (runner === undefined) continue;
        const lease = this.held.get(system);
        if (lease === undefined || this.lost.has(system) || !this.leases!.valid(lease)) {
          await this.drop(system, 'lease lost or not renewed in time');
          continue;
        }
        try {
          const n = await runner.step(batchSize);
          done += n;
          if (n >= batchSize) this.dirty.add(system); // more to read: go on without waiting
        } catch (err) {
          failures.push(err instanceof Error ? err : new Error(String(err)));
          if (!(err instanceof LogReadError)) await this.drop(system, 'step failed', true);
        }
      }
    };
    const lanes = Math.max(1, Math.min(this.opts.concurrency ?? 4, systems.length));
    await Promise.all(Array.from({ length: lanes }, lane));
    if (failures.length > 0) throw failures[0]!;
    return done;
  }

  private markDirty(system: string): void {
    if (!this.owned.has(system)) return;
    this.dirty.add(system);
    this.wakeLoop?.();
  }

  /** Until a wake-up, `stop`, or `ms`. */
  private waitForWork(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeLoop === done) this.wakeLoop = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeLoop = done;
    });
  }

  private async renew(): Promise<void> {
    // A round still running (slow NATS): a second one would race it on the same lease sequences.
    if (this.leases === null || this.stopped || this.renewing) return;
    this.renewing = true;
    try {
      await this.leases.heartbeat();
      // All at once (pipelined on the connection): one after the other, ~100 renewals took
      // seconds on a loaded machine, and leases renewed late are given up (Lease.valid).
      const leases = this.leases;
      await Promise.all(
        [...this.held].map(async ([system, lease]) => {
          const renewed = await leases.renew(lease);
          if (this.held.get(system) !== lease) return; // released meanwhile
          if (renewed === null) this.lost.add(system);
          else this.held.set(system, renewed);
        }),
      );
    } catch (err) {
      // NATS unreachable: leases age; the loop stops work on them at half the TTL.
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot renew leases');
    } finally {
      this.renewing = false;
    }
  }

  /** Consumer lag of every owned system, from JetStream (one consumer-info request each). */
  private async reportLag(): Promise<void> {
    for (const runner of [...this.owned.values()]) await runner.reportLag().catch(() => undefined);
  }

  private async rebalance(): Promise<void> {
    const leases = this.leases!;
    const workers = await leases.liveWorkers();
    if (!workers.includes(this.workerId)) workers.push(this.workerId);
    const records = await this.opts.store.listSystems();
    const wanted = this.opts.systems ? new Set(this.opts.systems) : null;
    for (const record of records) {
      if (wanted !== null && !wanted.has(record.id)) continue;
      const mine = LeaseTable.preferredOwner(record.id, workers) === this.workerId;
      if (mine && !this.owned.has(record.id)) await this.take(record.id, record.timezone);
      else if (!mine && this.owned.has(record.id)) await this.handOver(record.id);
    }
    brokerMetrics.ownedSystems.set(this.owned.size);
  }

  private async take(system: string, timeZone: string | undefined): Promise<void> {
    const lease = await this.leases!.acquire(system);
    if (lease === null) return; // still held by a worker that is leaving or dead: next round
    this.held.set(system, lease);
    try {
      const runner = await SystemRunner.open({
        store: this.opts.store,
        log: this.opts.log,
        system,
        timeZone: timeZone ?? DEFAULT_TIME_ZONE,
        detector: this.opts.detector,
        minHistoryDays: this.opts.minHistoryDays,
        logger: this.log,
        ...(this.opts.checkpointEverySnapshots !== undefined
          ? { checkpointEverySnapshots: this.opts.checkpointEverySnapshots }
          : {}),
        ...(this.opts.detectorOptions ? { detectorOptions: this.opts.detectorOptions } : {}),
      });
      this.lost.delete(system);
      this.owned.set(system, runner);
      this.log.info({ system, offset: runner.offset }, 'took over a system');
    } catch (err) {
      await this.free(system);
      throw err;
    }
  }

  /** Clean hand-over: checkpoint, then free the lease for the next owner. */
  private async handOver(system: string): Promise<void> {
    const runner = this.owned.get(system);
    if (!runner) return;
    this.owned.delete(system);
    try {
      await runner.close(true);
    } finally {
      await this.free(system);
    }
    this.log.info({ system }, 'handed a system over');
  }

  private async free(system: string): Promise<void> {
    const lease = this.held.get(system);
    this.held.delete(system);
    if (lease) await this.leases!.release(lease).catch(() => undefined);
  }

  /** Stop working on a system without writing anything more (lease lost, or state unsure). */
  private async drop(system: string, why: string, release = false): Promise<void> {
    const runner = this.owned.get(system);
    if (!runner) return;
    this.owned.delete(system);
    this.lost.delete(system);
    await runner.close(false).catch(() => undefined);
    if (release) await this.free(system);
    else this.held.delete(system);
    this.log.warn({ system, why }, 'stopped processing a system');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
