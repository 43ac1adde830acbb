import { emptyArchiveStats, type ArchiveError } from '../archive/index.js';
import type { Rejection } from '../feed/model.js';
import { checkDocumentTime, parseSystemInformation } from '../feed/parse/index.js';
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import type { Store } from '../storage/types.js';
import { Pipeline, type PipelineListener } from './pipeline.js';
import { RejectionCounter } from './rejections.js';
import { readReplayItems, type ReplayItem } from './replay-reader.js';

export interface ReplayOptions {
  paths: string[];
  store: Store;
  /** System id; default: system_information's system_id, else "replay". */
  system?: string;
  /** Default: system_information's timezone, else Europe/Paris (Vélib'). */
  timeZone?: string;
  detector: string;
  minHistoryDays: number;
  /** Default: 3 × the median interval of the first documents (archives are often irregular). */
  gapThresholdSec?: number;
  detectorOptions?: Record<string, unknown>;
  listener?: PipelineListener;
  logger?: Logger;
  onProgress?: (p: { bytes: number; totalBytes: number; documents: number }) => void;
  signal?: AbortSignal;
  /** Read and parse the archive on a second thread (default true; see replay-reader.ts). */
  readerThread?: boolean;
}

export interface ReplaySummary {
  system: string;
  timeZone: string;
  gapThresholdSec: number;
  documents: number;
  /** Documents already processed by an earlier, interrupted run of the same replay. */
  resumedSkipped: number;
  stationObservations: number;
  events: number;
  stateChanges: number;
  rejected: Record<string, number>;
  archiveErrors: number;
  firstDocumentSec: number | null;
  lastDocumentSec: number | null;
  elapsedSec: number;
  observationsPerSec: number;
}

/** Documents buffered before the pipeline opens, to learn the time zone and the feed's cadence. */
const WARM_UP_DOCUMENTS = 21;
const DEFAULT_TIME_ZONE = 'Europe/Paris';
const BATCH_ITEMS = 100;

/**
 * Runs recorded archives through the same pipeline as the live watcher, on document time, as fast
 * as it can, streaming. Re-running an interrupted replay on the same store resumes: documents up
 * to the last committed one are skipped, consumers continue from their offsets.
 */
export async function replay(opts: ReplayOptions): Promise<ReplaySummary> {
  const logger = opts.logger ?? silentLogger;
  const started = performance.now();
  const stats = emptyArchiveStats();
  const rejections = new RejectionCounter(logger, opts.system ?? 'replay');
  const onError = (e: ArchiveError): void => {
    logger.warn({ file: e.file, line: e.line, kind: e.kind }, `archive: ${e.message}`);
  };

  let system = opts.system;
  let timeZone = opts.timeZone;
  let pipeline: Pipeline | null = null;
  let resumeFromSec: number | null = null;
  let gapThresholdSec = opts.gapThresholdSec ?? 0;
  let resumedSkipped = 0;
  let firstDocumentSec: number | null = null;
  const pending: ReplayItem[] = [];
  let pendingStatus = 0;

  const open = async (): Promise<Pipeline> => {
    system ??= 'replay';
    timeZone ??= DEFAULT_TIME_ZONE;
    if (opts.gapThresholdSec === undefined) gapThresholdSec = 3 * medianInterval(pending);
    rejections.system = system;
    const p = await Pipeline.open({
      store: opts.store,
      system,
      timeZone,
      detector: opts.detector,
      minHistoryDays: opts.minHistoryDays,
      gapThresholdSec,
      ...(opts.detectorOptions ? { detectorOptions: opts.detectorOptions } : {}),
      ...(opts.listener ? { listener: opts.listener } : {}),
      logger,
    });
    resumeFromSec = p.producer.lastDocumentSec;
    return p;
  };

  const handle = async (p: Pipeline, item: ReplayItem): Promise<void> => {
    switch (item.feed) {
      case 'station_information': {
        const r = item.info;
        if (!r.ok) return rejections.add(r.rejection);
        rejections.addAll(r.rejections);
        await p.ingestInformation(r.doc);
        return;
      }
      case 'station_status': {
        // Parsed where the archive is read, with the vehicle types known at the document's time.
        const r = item.status;
        if (!r.ok) return rejections.add(r.rejection);
        const doc = r.doc;
        if (resumeFromSec !== null && doc.lastUpdatedSec <= resumeFromSec) {
          resumedSkipped++;
          return;
        }
        // In a replay "now" is the document's own time: no document can be in the future.
        const timeProblem = checkDocumentTime(
          p.producer.lastDocumentSec,
          doc.lastUpdatedSec,
          doc.lastUpdatedSec,
        );
        if (timeProblem) return rejections.add(timeProblem);
        rejections.addAll(r.rejections);
        firstDocumentSec ??= doc.lastUpdatedSec;
        await p.ingestStatus(doc, rejectedIds(r.rejections));
        return;
      }
      default:
        return;
    }
  };

  const items = readReplayItems(opts.paths, {
    stats,
    onError,
    ...(opts.readerThread !== undefined ? { thread: opts.readerThread } : {}),
  });
  let finished = false;
  const step = async (item: ReplayItem): Promise<void> => {
    if (item.feed === 'system_information') {
      const r = parseSystemInformation(item.doc);
      if (r.ok) {
        timeZone ??= r.doc.timezone;
        system ??= slug(r.doc.systemId);
      }
      return;
    }
    if (item.feed === 'vehicle_types') return;
    if (pipeline === null) {
      pending.push(item);
      if (item.feed === 'station_status') pendingStatus++;
      if (pendingStatus < WARM_UP_DOCUMENTS) return;
      pipeline = await open();
      for (const it of pending.splice(0)) await handle(pipeline, it);
      return;
    }
    await handle(pipeline, item);
    opts.onProgress?.({
      bytes: item.bytes,
      totalBytes: stats.totalBytes,
      documents: pipeline.counts.documents,
    });
  };
  // Documents are committed BATCH_ITEMS at a time: a crash redoes at most one batch.
  try {
    while (!finished) {
      await opts.store.batch(async () => {
        for (let n = 0; n < BATCH_ITEMS; n++) {
          const next = await items.next();
          if (next.done === true || opts.signal?.aborted === true) {
            finished = true;
            return;
          }
          await step(next.value);
        }
      });
    }
  } finally {
    // Stops the reader thread when the replay ends early (abort, failure).
    await items.return(undefined);
  }
  if (pipeline === null && pending.length > 0) {
    pipeline = await open();
    for (const it of pending.splice(0)) await handle(pipeline, it);
  }
  if (pipeline !== null) await pipeline.flush();

  const elapsedSec = (performance.now() - started) / 1000;
  const counts = pipeline?.counts ?? { documents: 0, stationObservations: 0, events: 0, stateChanges: 0 };
  return {
    system: system ?? 'replay',
    timeZone: timeZone ?? DEFAULT_TIME_ZONE,
    gapThresholdSec,
    documents: counts.documents,
    resumedSkipped,
    stationObservations: counts.stationObservations,
    events: counts.events,
    stateChanges: counts.stateChanges,
    rejected: rejections.byReason(),
    archiveErrors: stats.badLines + stats.corruptFiles,
    firstDocumentSec,
    lastDocumentSec: pipeline?.producer.lastDocumentSec ?? null,
    elapsedSec,
    observationsPerSec: elapsedSec > 0 ? counts.stationObservations / elapsedSec : 0,
  };
}

function rejectedIds(rejections: Rejection[]): Set<string> | undefined {
  if (rejections.length === 0) return undefined;
  const ids = new Set<string>();
  for (const r of rejections) if (r.stationId !== null) ids.add(r.stationId);
  return ids;
}

/** Median spacing of the buffered status documents (seconds); 60 when there are too few. */
function medianInterval(items: readonly ReplayItem[]): number {
  const times = items.filter((i) => i.feed === 'station_status').map((i) => i.timeSec);
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    if (gap > 0) gaps.push(gap);
  }
  if (gaps.length === 0) return 60;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

function slug(id: string | null): string | undefined {
  if (id === null) return undefined;
  const s = id
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s.length > 0 ? s.slice(0, 63) : undefined;
}
