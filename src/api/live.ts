/**
 * LiveBus: how the pipeline tells the API that something changed. The pipeline calls
 * `publishStateChange` for every committed state change and `publishSnapshot` after every
 * committed document; the API bumps its cache version and pushes to Server-Sent Events clients.
 * Synchronous and allocation-light: the pipeline's hot path must not wait for HTTP clients.
 */
import type { StateChange } from '../detection/types.js';

export type LiveMessage =
  | { kind: 'state_change'; version: number; change: StateChange }
  | { kind: 'snapshot'; version: number; system: string; timeSec: number };

export type LiveListener = (message: LiveMessage) => void;

export class LiveBus {
  private listeners = new Set<LiveListener>();
  private currentVersion = 0;
  private lastTimeSec: number | null = null;

  /** Bumped at every publish: caches keyed by it know when to rebuild. */
  get version(): number {
    return this.currentVersion;
  }

  /** Document time of the latest snapshot published, null before the first. */
  get lastSnapshotSec(): number | null {
    return this.lastTimeSec;
  }

  publishStateChange(change: StateChange): void {
    this.emit({ kind: 'state_change', version: ++this.currentVersion, change });
  }

  publishSnapshot(system: string, timeSec: number): void {
    if (this.lastTimeSec === null || timeSec > this.lastTimeSec) this.lastTimeSec = timeSec;
    this.emit({ kind: 'snapshot', version: ++this.currentVersion, system, timeSec });
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  private emit(message: LiveMessage): void {
    for (const listener of this.listeners) {
      // A failing subscriber (a closed socket) must never break the pipeline that published.
      try {
        listener(message);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}

export function createLiveBus(): LiveBus {
  return new LiveBus();
}
