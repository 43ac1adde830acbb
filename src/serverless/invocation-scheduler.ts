import type { Scheduler, TimerHandle } from '../feed/index.js';

/**
 * The FeedWatcher's clock inside a Lambda function: real time, but the watcher's "next poll"
 * timer fires only when EventBridge invokes the function (`fire()`), never on its own — a frozen
 * container has no timers, and an invocation that arrives a little early must still poll.
 */
export class InvocationScheduler implements Scheduler {
  private nextId = 1;
  private readonly timers = new Map<number, () => void>();

  constructor(private readonly clock: () => number = Date.now) {}

  now(): number {
    return this.clock();
  }

  setTimeout(fn: () => void, _delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, fn);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Runs every waiting timer now. Returns how many fired. */
  fire(): number {
    const due = [...this.timers.values()];
    this.timers.clear();
    for (const fn of due) fn();
    return due.length;
  }
}
