import type { FeedName } from '../feed/model.js';
import { ARCHIVE_FEEDS, listArchiveFiles, type ArchiveFeed } from './files.js';
import { emptyArchiveStats, FeedSource, type ArchiveError, type ArchiveStats } from './source.js';

export interface ArchiveItem {
  feed: FeedName;
  /** Document time (POSIX seconds), the merge key. */
  timeSec: number;
  /** The document, already JSON.parsed (each line is parsed exactly once). */
  doc: unknown;
  /** Compressed bytes read so far over all files: with `stats.totalBytes`, a progress bar. */
  bytes: number;
}

export interface ReadArchiveOptions {
  /** Feeds to read; default all four. */
  feeds?: readonly ArchiveFeed[];
  /** Called for each damaged file or bad line; reading goes on. */
  onError?: (error: ArchiveError) => void;
  /** Filled in while reading (files, totalBytes before the first item, lines, badLines, …). */
  stats?: ArchiveStats;
}

/**
 * Stream recorded documents from archive directories or files, all feeds merged in document-time
 * order. At equal times system_information, vehicle_types and station_information come before
 * station_status, so the station catalogue is current when a status document is diffed.
 *
 * Memory stays at a few documents per feed whatever the file size (the Bay Wheels status file is
 * 1.1 GB decompressed). A damaged file or line is reported through `onError` and counted in `stats`;
 * every good line is still delivered. Missing paths or unnamed files throw before the first item.
 */
export async function* readArchive(
  paths: string[],
  opts: ReadArchiveOptions = {},
): AsyncGenerator<ArchiveItem> {
  const stats = opts.stats ?? emptyArchiveStats();
  const onError = opts.onError ?? (() => {});
  const files = await listArchiveFiles(paths, opts.feeds ?? ARCHIVE_FEEDS);
  for (const f of files) stats.totalBytes += f.sizeBytes;

  // Sources in tie-break order (ARCHIVE_FEEDS), each chaining its feed's files chronologically.
  const sources: FeedSource[] = [];
  for (const feed of ARCHIVE_FEEDS) {
    const own = files.filter((f) => f.feed === feed);
    if (own.length > 0) sources.push(new FeedSource(feed, own, stats, onError));
  }
  try {
    const live: FeedSource[] = [];
    for (const s of sources) if (await s.next()) live.push(s);
    // k-way merge over at most four sources: a linear scan beats a heap at this size. Strict `<`
    // keeps the earlier source (the catalogue) first on ties.
    while (live.length > 0) {
      let best = 0;
      for (let i = 1; i < live.length; i++) if (live[i]!.timeSec < live[best]!.timeSec) best = i;
      const s = live[best]!;
      let bytes = 0;
      for (const src of sources) bytes += src.bytesRead;
      yield { feed: s.feed, timeSec: s.timeSec, doc: s.doc, bytes };
      if (!(await s.next())) live.splice(best, 1);
    }
  } finally {
    for (const s of sources) s.close();
  }
}
