import { hostname } from 'node:os';
import { brokerMetrics, LeaseTable, SystemRunner, type JetStreamLog, type Lease } from '../broker/index.js';
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
  /** Pause when no system had new events; default 200 ms. */
  idleMs?: number;
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
    await this.loopDone;
    for (const system of [...this.owned.keys()]) await this.handOver(system);
    this.log.info('process worker stopped: checkpoints saved, leases released');
  }

  private async loop(): Promise<void> {
    let nextRebalanceMs = 0;
    while (!this.stopped) {
      try {
        if (Date.now() >= nextRebalanceMs) {
          await this.rebalance();
          nextRebalanceMs = Date.now() + Math.floor(this.ttlMs / 3);
        }
        let done = 0;
        for (const [system, runner] of this.owned) {
          if (this.stopped) break;
          const lease = this.held.get(system);
          if (lease === undefined || this.lost.has(system) || !this.leases!.valid(lease)) {
            await this.drop(system, 'lease lost or not renewed in time');
            continue;
          }
          done += await runner.step(this.opts.batchSize ?? 2_000);
        }
        if (done === 0) await sleep(this.opts.idleMs ?? 200);
      } catch (err) {
        this.log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'process worker step failed: retrying',
        );
        // Rebuild every runner from the Store (its memory may be ahead of what was committed).
        for (const system of [...this.owned.keys()]) await this.drop(system, 'step failed', true);
        await sleep(1_000);
      }
    }
  }

  private async renew(): Promise<void> {
    if (this.leases === null || this.stopped) return;
    try {
      await this.leases.heartbeat();
      for (const [system, lease] of [...this.held]) {
        const renewed = await this.leases.renew(lease);
        if (this.held.get(system) !== lease) continue; // released meanwhile
        if (renewed === null) this.lost.add(system);
        else this.held.set(system, renewed);
      }
    } catch (err) {
      // NATS unreachable: leases age; the loop stops work on them at half the TTL.
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot renew leases');
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
