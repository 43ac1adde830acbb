/** NATS JetStream: the event log, raw snapshots, leases for the `collect` / `process` roles. */
export { connectNats, natsServers, NatsUnavailableError, type NatsConnectOptions } from './connection.js';
export { JetStreamLog, SystemEventLog, openJetStreamLog, type JetStreamLogOptions } from './event-log.js';
export { brokerLayout, DEFAULT_EVENTS_STREAM, type BrokerLayout } from './layout.js';
export { JetStreamOffsetBook, type OffsetBook } from './offsets.js';
export { EventSubjects, SYSTEM_PARTITION, stationPartition, fnv1a, checkToken, SubjectTokenError } from './subjects.js';
export { validateEvent } from './codec.js';
export { SnapshotLog, type RawSnapshot } from './snapshots.js';
export { publishingStore, type PublishingStore } from './publishing-store.js';
export { withEventLog } from './log-store.js';
export { SystemCollector, type SystemCollectorOptions } from './system-collector.js';
export { SystemRunner, type SystemRunnerOptions } from './system-runner.js';
export { LeaseTable, type Lease } from './lease.js';
export { brokerMetrics } from './metrics.js';
