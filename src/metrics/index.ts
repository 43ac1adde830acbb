/**
 * One prom-client registry for the whole process; every stage increments the counters here so
 * that GET /metrics (issue 4) shows them without wiring.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
let defaultsOn = false;
/** Process metrics (RSS, event-loop lag…) only in long-running commands, not in every test. */
export function enableDefaultMetrics(): void {
  if (!defaultsOn) collectDefaultMetrics({ register: registry, prefix: 'dockwatch_' });
  defaultsOn = true;
}

export const metrics = {
  polls: new Counter({
    name: 'dockwatch_polls_total',
    help: 'Feed requests, by feed and outcome (ok, not_modified, error)',
    labelNames: ['system', 'feed', 'outcome'] as const,
    registers: [registry],
  }),
  rejected: new Counter({
    name: 'dockwatch_rejected_total',
    help: 'Rejected documents or stations, by feed and reason code',
    labelNames: ['system', 'feed', 'reason'] as const,
    registers: [registry],
  }),
  documents: new Counter({
    name: 'dockwatch_documents_total',
    help: 'Accepted station_status documents',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  events: new Counter({
    name: 'dockwatch_events_total',
    help: 'Events appended to the log, by type',
    labelNames: ['system', 'type'] as const,
    registers: [registry],
  }),
  stateChanges: new Counter({
    name: 'dockwatch_state_changes_total',
    help: 'Station state changes, by new state and detector',
    labelNames: ['system', 'to', 'detector'] as const,
    registers: [registry],
  }),
  feedStale: new Gauge({
    name: 'dockwatch_feed_stale',
    help: '1 while the feed is stale or unreachable',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  detectorSeconds: new Histogram({
    name: 'dockwatch_detector_seconds',
    help: 'Time to run detection over one document',
    labelNames: ['system', 'detector'] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [registry],
  }),
  storeErrors: new Counter({
    name: 'dockwatch_store_errors_total',
    help: 'Failed writes to the store (the document is retried, nothing is lost)',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  consumerLag: new Gauge({
    name: 'dockwatch_consumer_lag_events',
    help: 'Events in the log not yet processed by a consumer',
    labelNames: ['consumer'] as const,
    registers: [registry],
  }),
};
