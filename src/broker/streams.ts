import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { isStreamNotFound } from './errors.js';

const NS_PER_SEC = 1_000_000_000;

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Keep messages this long (0 = forever). Given: also applied to an existing stream. */
  maxAgeSec?: number;
  /** Keep only the last N messages of each subject (offsets, leases, raw snapshots). */
  maxMsgsPerSubject?: number;
  /** Msg-id duplicate suppression window. */
  duplicateWindowSec?: number;
  memory?: boolean;
}

/** Creates the stream when missing; checks that an existing one takes our subjects. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  try {
    const info = await jsm.streams.info(spec.name);
    for (const s of spec.subjects) {
      if (!info.config.subjects?.includes(s)) {
        throw new Error(
          `JetStream stream ${spec.name} exists with subjects ${JSON.stringify(info.config.subjects)}, expected ${s}`,
        );
      }
    }
    // Settings a deployment may change between starts (e.g. DOCKWATCH_RETENTION_DAYS).
    const changes: Partial<StreamConfig> = {};
    const windowNs = (spec.duplicateWindowSec ?? 0) * NS_PER_SEC;
    if (windowNs > 0 && info.config.duplicate_window !== windowNs) changes.duplicate_window = windowNs;
    if (spec.maxAgeSec !== undefined && info.config.max_age !== spec.maxAgeSec * NS_PER_SEC)
      changes.max_age = spec.maxAgeSec * NS_PER_SEC;
    if (Object.keys(changes).length > 0) return await jsm.streams.update(spec.name, changes);
    return info;
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
  const config: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: spec.subjects,
    retention: RetentionPolicy.Limits,
    storage: spec.memory ? StorageType.Memory : StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: (spec.maxAgeSec ?? 0) * NS_PER_SEC,
    allow_direct: true,
    ...(spec.maxMsgsPerSubject ? { max_msgs_per_subject: spec.maxMsgsPerSubject } : {}),
    ...(spec.duplicateWindowSec ? { duplicate_window: spec.duplicateWindowSec * NS_PER_SEC } : {}),
  };
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    // Another process created it between our info and add.
    if (err instanceof Error && /already in use/i.test(err.message)) return jsm.streams.info(spec.name);
    throw err;
  }
}

export async function deleteStreamIfExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    return await jsm.streams.delete(name);
  } catch (err) {
    if (isStreamNotFound(err)) return false;
    throw err;
  }
}
