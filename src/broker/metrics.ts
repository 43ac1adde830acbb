import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/index.js';

/** The broker roles' own metrics, in the process-wide registry (GET /metrics shows them). */
export const brokerMetrics = {
  bufferedDocuments: new Gauge({
    name: 'dockwatch_collector_buffered_documents',
    help: 'Documents a collector holds in memory because NATS or the store cannot take them yet',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  droppedDocuments: new Counter({
    name: 'dockwatch_collector_dropped_documents_total',
    help: 'Buffered documents dropped (oldest first) because the buffer was full: blind time, marked by feed_gap',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  publishFailures: new Counter({
    name: 'dockwatch_collector_publish_failures_total',
    help: 'Failed attempts to publish a document (retried)',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  recoveredDocuments: new Counter({
    name: 'dockwatch_collector_recovered_documents_total',
    help: 'Documents half-published before a crash and finished at restart',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  publishedDocuments: new Counter({
    name: 'dockwatch_collector_published_documents_total',
    help: 'station_status documents published to JetStream with their events and saved diff state',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  publishedDocumentTime: new Gauge({
    name: 'dockwatch_collector_published_document_time_seconds',
    help: 'Document time (POSIX s) of the newest document published',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  processedDocuments: new Counter({
    name: 'dockwatch_process_documents_total',
    help: 'Documents (snapshot events) processed by the activity and detection consumers',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  processedEvents: new Counter({
    name: 'dockwatch_process_events_total',
    help: 'Events processed by the activity and detection consumers',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  processedDocumentTime: new Gauge({
    name: 'dockwatch_process_document_time_seconds',
    help: 'Document time (POSIX s) of the newest document processed; compare with the collector’s',
    labelNames: ['system'] as const,
    registers: [registry],
  }),
  ownedSystems: new Gauge({
    name: 'dockwatch_process_owned_systems',
    help: 'Systems this process worker holds the lease of',
    registers: [registry],
  }),
};
