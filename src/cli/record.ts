import { ArchiveWriter } from '../archive/index.js';
import { FeedWatcher } from '../feed/http/index.js';
import type { Logger } from '../log/index.js';

export interface RecordOptions {
  /** gbfs.json, or a station_status URL. */
  feedUrl: string;
  /** Archive directory (created if missing). */
  outDir: string;
  pollIntervalMs: number;
  logger: Logger;
  /** Ends the recording. Without one, SIGINT / SIGTERM do. */
  signal?: AbortSignal;
  /** System id for logs and metrics; the feed's host name by default. */
  system?: string;
}

/**
 * `dockwatch record`: poll a feed and append the raw body of every accepted document to a rotating
 * brotli JSON Lines archive (the format `readArchive` / `dockwatch replay` read). Only documents the
 * watcher accepts are written: a status whose timestamp advanced, a catalogue whose stations changed.
 * Resolves once the signal fired, the poll in flight ended and every file was closed cleanly.
 */
export async function runRecord(opts: RecordOptions): Promise<void> {
  const log = opts.logger;
  const writer = new ArchiveWriter(opts.outDir);
  const written: Record<string, number> = {};
  const count = (feed: string): void => {
    written[feed] = (written[feed] ?? 0) + 1;
  };
  const watcher = new FeedWatcher({
    system: opts.system ?? new URL(opts.feedUrl).hostname,
    feedUrl: opts.feedUrl,
    pollIntervalMs: opts.pollIntervalMs,
    logger: log,
    handlers: {
      onStatus: async (doc, { raw }) => {
        await writer.write('station_status', raw, doc.lastUpdatedSec);
        count('station_status');
      },
      onInformation: async (doc, { raw }) => {
        await writer.write('station_information', raw, doc.lastUpdatedSec);
        count('station_information');
      },
      onSystemInformation: async (_info, { raw, timeSec }) => {
        await writer.write('system_information', raw, timeSec);
        count('system_information');
      },
      onVehicleTypes: async (_types, { raw, timeSec }) => {
        await writer.write('vehicle_types', raw, timeSec);
        count('vehicle_types');
      },
    },
  });

  const { signal, release } = stopSignal(opts.signal);
  try {
    if (!signal.aborted) {
      log.info(`recording ${opts.feedUrl} into ${opts.outDir} every ${opts.pollIntervalMs / 1000} s`);
      watcher.start();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      log.info('stopping: finishing the poll in flight and closing the archive');
    }
  } finally {
    await watcher.stop();
    await writer.close();
    release();
  }
  log.info({ written }, `recording stopped; documents written: ${JSON.stringify(written)}`);
}

/** The caller's signal, or one fired by SIGINT / SIGTERM (listeners removed by `release`). */
function stopSignal(given: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
  if (given) return { signal: given, release: () => {} };
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}
