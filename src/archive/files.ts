import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FeedName } from '../feed/model.js';

/**
 * The feeds an archive holds, in the order they win a tie: at equal timestamps the system and the
 * station catalogue come before the status document that refers to them.
 */
export const ARCHIVE_FEEDS = [
  'system_information',
  'vehicle_types',
  'station_information',
  'station_status',
] as const;
export type ArchiveFeed = (typeof ARCHIVE_FEEDS)[number] & FeedName;

export interface ArchiveFile {
  path: string;
  feed: ArchiveFeed;
  /** UTC day `YYYY-MM-DD` of a rotated file; null for a single-file archive (`station_status.jsonl.br`). */
  day: string | null;
  /** 0 for the first file of a day; 1, 2… when the writer restarted the same day. */
  part: number;
  sizeBytes: number;
}

const SUFFIX = '.jsonl.br';
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const PART_RE = /^[1-9]\d*$/;

/**
 * File names: `<feed>.jsonl.br` (one file for the whole recording, as in /work/shared/data) or
 * `<feed>.<YYYY-MM-DD>.jsonl.br` (rotated daily), `<feed>.<YYYY-MM-DD>.<n>.jsonl.br` (n-th restart
 * that day: a brotli stream cannot be appended to once its writer died, so a restart opens a new part).
 */
export function archiveFileName(feed: ArchiveFeed, day: string, part = 0): string {
  return part === 0 ? `${feed}.${day}${SUFFIX}` : `${feed}.${day}.${part}${SUFFIX}`;
}

export function parseArchiveFileName(
  base: string,
): { feed: ArchiveFeed; day: string | null; part: number } | null {
  if (!base.endsWith(SUFFIX)) return null;
  const pieces = base.slice(0, -SUFFIX.length).split('.');
  const feed = ARCHIVE_FEEDS.find((f) => f === pieces[0]);
  if (!feed) return null;
  if (pieces.length === 1) return { feed, day: null, part: 0 };
  const day = pieces[1]!;
  if (!DAY_RE.test(day)) return null;
  if (pieces.length === 2) return { feed, day, part: 0 };
  if (pieces.length === 3 && PART_RE.test(pieces[2]!)) return { feed, day, part: Number(pieces[2]) };
  return null;
}

/** Chronological order of the files of one feed: undated first, then by day, then by part. */
export function compareArchiveFiles(a: ArchiveFile, b: ArchiveFile): number {
  const dayA = a.day ?? '';
  const dayB = b.day ?? '';
  if (dayA !== dayB) return dayA < dayB ? -1 : 1;
  if (a.part !== b.part) return a.part - b.part;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * Resolve directories and files into archive files, sorted per feed. A directory contributes every
 * file named like an archive; a file given by name must be named like one too, so that its feed is known.
 */
export async function listArchiveFiles(
  paths: string[],
  feeds: readonly ArchiveFeed[] = ARCHIVE_FEEDS,
): Promise<ArchiveFile[]> {
  const found: ArchiveFile[] = [];
  for (const p of paths) {
    const st = await stat(p);
    if (st.isDirectory()) {
      const names = await readdir(p);
      let any = false;
      for (const name of names) {
        const parsed = parseArchiveFileName(name);
        if (!parsed) continue;
        any = true;
        if (!feeds.includes(parsed.feed)) continue;
        const full = path.join(p, name);
        const fst = await stat(full);
        if (fst.isFile()) found.push({ path: full, ...parsed, sizeBytes: fst.size });
      }
      if (!any)
        throw new Error(`${p}: no archive file in this directory (expected e.g. station_status.jsonl.br)`);
    } else {
      const parsed = parseArchiveFileName(path.basename(p));
      if (!parsed) {
        throw new Error(
          `${p}: cannot tell which feed this file holds; name it <feed>.jsonl.br or <feed>.<YYYY-MM-DD>.jsonl.br ` +
            `with <feed> one of ${ARCHIVE_FEEDS.join(', ')}`,
        );
      }
      if (feeds.includes(parsed.feed)) found.push({ path: p, ...parsed, sizeBytes: st.size });
    }
  }
  return found.sort(
    (a, b) => ARCHIVE_FEEDS.indexOf(a.feed) - ARCHIVE_FEEDS.indexOf(b.feed) || compareArchiveFiles(a, b),
  );
}
