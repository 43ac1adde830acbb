import { gunzipSync, gzipSync } from 'node:zlib';
import type { StatusDocument } from '../feed/model.js';
import type { JetStreamLog } from './event-log.js';
import { ensureStream } from './streams.js';
import { checkToken } from './subjects.js';

/** A raw station_status document as the collector accepted it, with the stations the parser refused. */
export interface RawSnapshot {
  system: string;
  doc: StatusDocument;
  rejectedStationIds: string[];
  /** When JetStream stored it (server clock). */
  storedAtMs: number;
}

/** Kept per system: enough for recovery (only the newest is needed) and for a look at recent raw data. */
const KEEP_PER_SYSTEM = 4;

/**
 * The snapshots stream: every accepted station_status document, published *before* its events.
 * It is the collector's write-ahead record: if the collector dies after publishing some events of
 * a document but before its diff state is saved in the Store, the restarted collector finds that
 * document here and finishes it (see SystemCollector.recover). Gzipped JSON: a 1,500-station
 * document is ~300 kB of JSON, ~30 kB gzipped, well under NATS's 1 MB message limit.
 */
export class SnapshotLog {
  private constructor(private readonly log: JetStreamLog) {}

  static async open(log: JetStreamLog, opts: { duplicateWindowSec?: number } = {}): Promise<SnapshotLog> {
    await ensureStream(log.jsm, {
      name: log.layout.snapshotsStream,
      subjects: [`${log.layout.snapshotsPrefix}.>`],
      maxMsgsPerSubject: KEEP_PER_SYSTEM,
      duplicateWindowSec: opts.duplicateWindowSec ?? 3_600,
    });
    return new SnapshotLog(log);
  }

  private subject(system: string): string {
    return `${this.log.layout.snapshotsPrefix}.${checkToken(system, 'system id')}`;
  }

  /** Idempotent by (system, document time). */
  async publish(
    system: string,
    doc: StatusDocument,
    rejectedStationIds: Iterable<string> = [],
  ): Promise<void> {
    const body = gzipSync(JSON.stringify({ doc, rejectedStationIds: [...rejectedStationIds] }), { level: 1 });
    await this.log.js.publish(this.subject(system), body, { msgID: `${system}|${doc.lastUpdatedSec}` });
  }

  async last(system: string): Promise<RawSnapshot | null> {
    const m = await this.log.jsm.streams.getMessage(this.log.layout.snapshotsStream, {
      last_by_subj: this.subject(system),
    });
    if (m === null) return null;
    const body = JSON.parse(gunzipSync(m.data).toString('utf8')) as {
      doc: StatusDocument;
      rejectedStationIds: string[];
    };
    return {
      system,
      doc: body.doc,
      rejectedStationIds: body.rejectedStationIds,
      storedAtMs: m.time.getTime(),
    };
  }
}
