import type { EventLog } from './types.js';

/**
 * An event log whose every call first awaits `ready()` (the schema / table layout check that
 * network stores run once, lazily), so callers never touch a store that is not migrated.
 */
export function gatedEventLog(inner: EventLog, ready: () => Promise<void>): EventLog {
  return {
    append: async (events) => (await ready(), inner.append(events)),
    read: async (afterOffset, limit) => (await ready(), inner.read(afterOffset, limit)),
    lastOffset: async () => (await ready(), inner.lastOffset()),
    consumerOffset: async (consumer) => (await ready(), inner.consumerOffset(consumer)),
    commitOffset: async (consumer, offset) => (await ready(), inner.commitOffset(consumer, offset)),
  };
}
