/**
 * Time as a dependency. The watcher never calls `setTimeout` or `Date.now` itself, so its cadence,
 * back-off and staleness rules are unit-testable with a clock the test moves by hand.
 */

export type TimerHandle = { readonly id: number };

export interface Scheduler {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process clock and timers. Timers are unref'd: a pending poll never keeps the process alive alone. */
interface RealHandle extends TimerHandle {
  timer: NodeJS.Timeout;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout(fn, delayMs): RealHandle {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    timer.unref();
    return { id: 0, timer };
  },
  clearTimeout(handle) {
    clearTimeout((handle as RealHandle).timer);
  },
};

/** Resolves after `delayMs` on the given scheduler; rejects at once when `signal` aborts. */
export function sleep(scheduler: Scheduler, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      scheduler.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = scheduler.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface ManualTimer {
  id: number;
  dueMs: number;
  fn: () => void;
}

/**
 * A clock that moves only when told. Timers fire in due order during `advance`; between two timers
 * it yields to the event loop so that I/O started by one timer (a real HTTP request on localhost)
 * can make progress before the next fires.
 */
export class ManualScheduler implements Scheduler {
  private nowMs: number;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueMs: this.nowMs + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  /** Number of timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }

  /** Due time of the next timer, or null. */
  nextDueMs(): number | null {
    let min: number | null = null;
    for (const t of this.timers) if (min === null || t.dueMs < min) min = t.dueMs;
    return min;
  }

  /** Move the clock forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    for (;;) {
      const due = this.nextDueMs();
      if (due === null || due > targetMs) break;
      const timer = this.timers.find((t) => t.dueMs === due)!;
      this.timers = this.timers.filter((t) => t !== timer);
      this.nowMs = Math.max(this.nowMs, due);
      timer.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.nowMs = targetMs;
  }
}
