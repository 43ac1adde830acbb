import type { FeedName } from '../feed/model.js';
import { ARCHIVE_FEEDS, listArchiveFiles, type ArchiveFeed } from './files.js';
import {
  emptyArchiveStats,
  FeedSource,
  type ArchiveError,
  type ArchiveStats,
  type RawLine,
} from './source.js';

export interface ArchiveItem {
  feed: FeedName;
  /** Document time (POSIX seconds), the merge key. */
  timeSec: number;
  /** The document, already JSON.parsed (each line is parsed exactly once). */
  doc: unknown;
  /** Compressed bytes read so far over all files: with `stats.totalBytes`, a progress bar. */
  bytes: number;
  /**
   * Only with `rawStatus`: a station_status line left unparsed (`doc` is then undefined). Its time
   * is exact if it is JSON; if it is not, whoever parses it must report it as a bad line
   * (`ArchiveError` from `file`, `line`, `where`) and skip it: the order of the other items is then
   * still readArchive's.
   */
  raw?: RawLine;
}

export interface ReadArchiveOptions {
  /** Feeds to read; default all four. */
  feeds?: readonly ArchiveFeed[];
  /** Called for each damaged file or bad line; reading goes on. */
  onError?: (error: ArchiveError) => void;
  /** Filled in while reading (files, totalBytes before the first item, lines, badLines, …). */
  stats?: ArchiveStats;
  /**
   * Asked before each station_status line is parsed: true leaves it unparsed when its time can be
   * read from its tail (`raw` in the item), so that another thread may parse it.
   */
  rawStatus?: () => boolean;
  /** Where raw lines are copied: a Buffer of at least `bytes` (default: a new one per line). */
  rawBuffer?: (bytes: number) => Buffer;
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
    if (own.length > 0) sources.push(new FeedSource(feed, own, stats, onError, opts.rawBuffer));
  }
  try {
    const rawStatus = opts.rawStatus;
    const advance = (s: FeedSource): Promise<boolean> =>
      s.next(rawStatus !== undefined && s.feed === 'station_status' && rawStatus());
    const live: FeedSource[] = [];
    for (const s of sources) if (await advance(s)) live.push(s);
    // k-way merge over at most four sources: a linear scan beats a heap at this size. Strict `<`
    // keeps the earlier source (the catalogue) first on ties.
    while (live.length > 0) {
      let best = 0;
      for (let i = 1; i < live.length; i++) if (live[i]!.timeSec < live[best]!.timeSec) best = i;
      const s = live[best]!;
      // An unparsed line may go out first (if it is not JSON, skipping it later leaves the others'
      // order as it was), but no other document may go out before it on the strength of its time:
      // a bad line's time must not count. Parse it here, then choose again.
      const rawHead = live.findIndex((o) => o !== s && o.raw !== null);
      if (rawHead !== -1) {
        if (!(await live[rawHead]!.parseRaw())) live.splice(rawHead, 1);
        continue;
      }
      let bytes = 0;
      for (const src of sources) bytes += src.bytesRead;
      if (s.raw !== null) yield { feed: s.feed, timeSec: s.timeSec, doc: undefined, bytes, raw: s.raw };
      else yield { feed: s.feed, timeSec: s.timeSec, doc: s.doc, bytes };
      if (!(await advance(s))) live.splice(best, 1);
    }
  } finally {
    for (const s of sources) s.close();
  }
}
