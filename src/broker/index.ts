/**
 * NATS JetStream for the scale-out roles (issue 6). Design, in short:
 *
 * - Event log: stream DOCKWATCH_EVENTS, one message per event on
 *   `dockwatch.events.<system>.<p0..p15 | _system>`, msg id = eventKey(e) (duplicate window 2 h).
 *   Offset = stream sequence: increasing, gapless for the stream, not per system. A system's
 *   consumers read `dockwatch.events.<system>.>` (all partitions + `_system`, in stream order),
 *   because the detector and activity model need the station events *and* the snapshot / gap
 *   events of their system in order. Partitions exist for a later intra-system split.
 * - Offsets live in the Store, committed in the same transaction as their effects
 *   (commitActivity / commitDetection): exactly-once as in the embedded mode. No durable JetStream
 *   consumers with acks are used for the pipeline: an ack cannot be atomic with a PostgreSQL
 *   commit, an offset in the same transaction is. (JetStreamOffsetBook is for a bare log.)
 * - Collector: raw document → snapshots stream (its write-ahead record), then events → event
 *   stream, then diff state → Store. A crash in between is finished at restart from the snapshots
 *   stream, reading back which events are already in the stream (not relying on the duplicate
 *   window). NATS or Store down: documents wait in a bounded in-memory queue, retried with back-off.
 * - Process workers: one lease per system (compare-and-set on a JetStream subject, TTL 15 s),
 *   owner chosen by rendezvous hashing over live workers (heartbeats). A dead worker's systems move
 *   when its leases expire; the new owner resumes from the Store's offsets and checkpoints.
 */
export { connectNats, natsServers, NatsUnavailableError, type NatsConnectOptions } from './connection.js';
export { JetStreamLog, SystemEventLog, openJetStreamLog, type JetStreamLogOptions } from './event-log.js';
export { brokerLayout, DEFAULT_EVENTS_STREAM, type BrokerLayout } from './layout.js';
export { JetStreamOffsetBook, type OffsetBook } from './offsets.js';
export {
  EventSubjects,
  SYSTEM_PARTITION,
  stationPartition,
  fnv1a,
  hash32,
  checkToken,
  SubjectTokenError,
} from './subjects.js';
export { validateEvent } from './codec.js';
export { SnapshotLog, type RawSnapshot } from './snapshots.js';
export { publishingStore, type PublishingStore } from './publishing-store.js';
export { withEventLog } from './log-store.js';
export { SystemCollector, type SystemCollectorOptions } from './system-collector.js';
export { LogReadError, SystemRunner, type SystemRunnerOptions } from './system-runner.js';
export { LeaseTable, type Lease } from './lease.js';
export { DocumentWakeups } from './wakeups.js';
export { brokerMetrics } from './metrics.js';
