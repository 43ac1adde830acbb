import type { EventLog, Store } from '../storage/index.js';

/**
 * The Store with another event log in place of its own: what a `process` worker gives the
 * pipeline's consumers. Reads come from JetStream; offsets, effects and checkpoints stay in the
 * Store, committed together (commitActivity / commitDetection), so exactly-once holds as in the
 * embedded mode. The log's consumerOffset/commitOffset must read the Store's offsets (pass
 * `store.log` as the JetStream view's offset book).
 */
export function withEventLog(store: Store, log: EventLog): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'log') return log;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
