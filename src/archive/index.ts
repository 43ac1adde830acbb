export { ARCHIVE_FEEDS, archiveFileName, listArchiveFiles, parseArchiveFileName } from './files.js';
export type { ArchiveFeed, ArchiveFile } from './files.js';
export { readArchive } from './reader.js';
export type { ArchiveItem, ReadArchiveOptions } from './reader.js';
export { emptyArchiveStats } from './source.js';
export type { ArchiveError, ArchiveStats } from './source.js';
export { documentTimeSec } from './timestamp.js';
export { ArchiveWriter, utcDay } from './writer.js';
