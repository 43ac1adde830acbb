import { eventKey, type FeedEvent, type LoggedEvent } from '../events/index.js';
import type { Store } from '../storage/index.js';
import type { JetStreamLog } from './event-log.js';

type DiffUpdate = Parameters<Store['commitDiff']>[2];

/**
 * The Store as the collector's Producer sees it: `commitDiff` publishes the events to JetStream
 * (idempotent by event key), then saves the diff state in the Store with no events. The two are
 * not one transaction; the order (events, then state) and the snapshots stream make a crash in
 * between recoverable (SystemCollector.recover). Everything else goes to the Store unchanged.
 */
export interface PublishingStore extends Store {
  /** Events whose keys are here are not published again (recovery of a half-published document). */
  skipKeys: Set<string> | null;
}

export function publishingStore(store: Store, log: JetStreamLog): PublishingStore {
  const own = { skipKeys: null as Set<string> | null };
  const commitDiff = async (
    system: string,
    events: FeedEvent[],
    update: DiffUpdate,
  ): Promise<LoggedEvent[]> => {
    const skip = own.skipKeys;
    const fresh = skip === null ? events : events.filter((e) => !skip.has(eventKey(e)));
    const logged = fresh.length > 0 ? await log.append(fresh) : [];
    await store.commitDiff(system, [], update);
    return logged;
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'commitDiff') return commitDiff;
      if (prop === 'skipKeys') return own.skipKeys;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set(target, prop, value) {
      if (prop === 'skipKeys') {
        own.skipKeys = value as Set<string> | null;
        return true;
      }
      return Reflect.set(target, prop, value);
    },
  }) as PublishingStore;
}
