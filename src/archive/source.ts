import { isAscii } from 'node:buffer';
import { createReadStream, type ReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { createBrotliDecompress } from 'node:zlib';
import type { ArchiveFeed, ArchiveFile } from './files.js';
import { documentTimeSec } from './timestamp.js';

/** Something wrong in an archive. Reading goes on: every good line before and after is kept. */
export interface ArchiveError {
  file: string;
  /** 1-based line number for a bad line; null when the file itself is damaged. */
  line: number | null;
  kind: 'corrupt_file' | 'bad_line';
  message: string;
}

/** Counters filled in while reading; pass your own object to watch them. */
export interface ArchiveStats {
  files: number;
  /** Sum of the compressed sizes of all files to read (the 100 % of a progress bar). */
  totalBytes: number;
  lines: number;
  badLines: number;
  corruptFiles: number;
  /** Documents without a readable timestamp: kept, at the time of the previous document of their feed. */
  untimed: number;
}

export function emptyArchiveStats(): ArchiveStats {
  return { files: 0, totalBytes: 0, lines: 0, badLines: 0, corruptFiles: 0, untimed: 0 };
}

// 256 kB decompressed chunks: large enough that the per-chunk stream overhead stays small (16 kB
// chunks ran the Bay Wheels file ~40 % slower), small enough that the reader's buffers stay few
// (1 MB chunks cost the replay tens of MB of peak RSS in buffers waiting for the GC).
const CHUNK_BYTES = 256 * 1024;
// When a file turns out damaged it is read again in small pieces: zlib drops the output of the
// write call that fails, which with 1 MB chunks could be several whole documents.
const RECOVERY_CHUNK_BYTES = 512;
const NEWLINE = 10;
// Lines longer than this are joined into a fresh buffer rather than the reusable one, so that one
// huge line does not keep its size allocated for the rest of the file.
const MAX_REUSED_LINE_BYTES = 4 * 1024 * 1024;

/**
 * The documents of one feed, file after file, one parsed line at a time. After `next()` resolved
 * true, `doc` and `timeSec` hold the current document. Hot path: no per-line closures or regexes.
 */
export class FeedSource {
  doc: unknown = null;
  timeSec = 0;
  /** Compressed bytes of the files already finished. */
  private doneBytes = 0;
  private fileIndex = -1;
  private file: ArchiveFile | null = null;
  private lineNo = 0;
  private input: ReadStream | null = null;
  private chunks: AsyncIterator<Buffer> | null = null;
  private buf: Buffer | null = null;
  private pos = 0;
  private carry: Buffer[] = [];
  /** Where a line cut across chunks is joined: reused, one line at a time (see joinCarry). */
  private lineBuf: Buffer = Buffer.alloc(0);
  private fileFailed = false;
  /** Second pass over a damaged file: skip the lines already delivered, up to this line number. */
  private recovering = false;
  private skipUntilLine = 0;
  private fileBytesSeen = 0;

  constructor(
    readonly feed: ArchiveFeed,
    private readonly files: ArchiveFile[],
    private readonly stats: ArchiveStats,
    private readonly onError: (e: ArchiveError) => void,
  ) {}

  /** Compressed bytes read so far from this feed's files. */
  get bytesRead(): number {
    return this.doneBytes + (this.input ? Math.max(this.fileBytesSeen, this.input.bytesRead) : 0);
  }

  /** Advance to the next good document; false at the end of the last file. */
  async next(): Promise<boolean> {
    for (;;) {
      const line = await this.nextLine();
      if (line === null) return false;
      if (line.length === 0 || (line.length === 1 && line[0] === 13)) continue;
      this.stats.lines++;
      let doc: unknown;
      try {
        // A line holds whole characters. Status documents are ASCII: copied as Latin-1 (the same
        // characters) the text costs a third of UTF-8 decoding.
        doc = JSON.parse(isAscii(line) ? line.toString('latin1') : line.toString('utf8'));
      } catch (err) {
        this.stats.badLines++;
        const where =
          this.fileFailed && this.chunks === null ? ' (cut short: last line of a damaged file)' : '';
        this.onError({
          file: this.file?.path ?? '',
          line: this.lineNo,
          kind: 'bad_line',
          message: `line ${this.lineNo} is not JSON${where}: ${(err as Error).message}`,
        });
        continue;
      }
      const t = documentTimeSec(doc);
      if (t === t) this.timeSec = t;
      else this.stats.untimed++;
      this.doc = doc;
      return true;
    }
  }

  /** Stop reading and release the file (for a consumer that breaks out early). */
  close(): void {
    this.closeFile();
    this.fileIndex = this.files.length;
  }

  private async nextLine(): Promise<Buffer | null> {
    for (;;) {
      const buf = this.buf;
      if (buf !== null) {
        const i = buf.indexOf(NEWLINE, this.pos);
        if (i !== -1) {
          let line = buf.subarray(this.pos, i);
          this.pos = i + 1;
          if (this.carry.length > 0) {
            this.carry.push(line);
            line = this.joinCarry();
          }
          this.lineNo++;
          if (this.lineNo <= this.skipUntilLine) continue;
          return line;
        }
        if (this.pos < buf.length) this.carry.push(buf.subarray(this.pos));
        this.buf = null;
      }
      if (this.chunks === null && !this.openNextFile()) return null;
      let chunk: Buffer | null = null;
      try {
        const r = await this.chunks!.next();
        if (!r.done) chunk = r.value;
      } catch (err) {
        if (!this.recovering) {
          this.reopenForRecovery();
          continue;
        }
        this.fileFailed = true;
        this.stats.corruptFiles++;
        this.onError({
          file: this.file!.path,
          line: null,
          kind: 'corrupt_file',
          message: `${this.file!.path}: cannot decompress past line ${this.lineNo} (${(err as Error).message}); the lines before are kept`,
        });
      }
      if (chunk !== null) {
        this.buf = chunk;
        this.pos = 0;
        continue;
      }
      // End of this file: an unterminated last line is still a line.
      this.closeFile();
      if (this.carry.length > 0) {
        const line = this.joinCarry();
        this.lineNo++;
        if (this.lineNo > this.skipUntilLine) return line;
      }
    }
  }

  /**
   * The pieces of a line that spans chunks, joined. Most Bay Wheels status lines (~200 kB) span two
   * 256 kB chunks: a fresh Buffer.concat per line was one more large external allocation per
   * document for the GC to account for. The result is only valid until the next line is read.
   */
  private joinCarry(): Buffer {
    const pieces = this.carry;
    this.carry = [];
    let total = 0;
    for (const p of pieces) total += p.length;
    if (total > MAX_REUSED_LINE_BYTES) return Buffer.concat(pieces, total);
    if (this.lineBuf.length < total)
      this.lineBuf = Buffer.allocUnsafeSlow(Math.max(total, 2 * this.lineBuf.length));
    let at = 0;
    for (const p of pieces) at += p.copy(this.lineBuf, at);
    return this.lineBuf.subarray(0, total);
  }

  private reopenForRecovery(): void {
    const file = this.file!;
    this.fileBytesSeen = Math.max(this.fileBytesSeen, this.input?.bytesRead ?? 0);
    this.destroyStreams();
    this.recovering = true;
    this.skipUntilLine = this.lineNo;
    this.lineNo = 0;
    this.buf = null;
    this.carry = [];
    this.openStreams(file.path, RECOVERY_CHUNK_BYTES);
  }

  private openNextFile(): boolean {
    this.fileIndex++;
    const file = this.files[this.fileIndex];
    if (!file) return false;
    this.file = file;
    this.lineNo = 0;
    this.fileFailed = false;
    this.recovering = false;
    this.skipUntilLine = 0;
    this.fileBytesSeen = 0;
    this.stats.files++;
    this.openStreams(file.path, CHUNK_BYTES);
    return true;
  }

  private openStreams(filePath: string, chunkBytes: number): void {
    const input = createReadStream(filePath, { highWaterMark: chunkBytes });
    const output = createBrotliDecompress({ chunkSize: Math.max(chunkBytes, 16_384) });
    // pipeline() forwards a read error into `output` and destroys both when either ends early.
    pipeline(input, output, () => {});
    this.input = input;
    this.chunks = output[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  private closeFile(): void {
    if (this.input) this.doneBytes += this.file?.sizeBytes ?? this.input.bytesRead;
    this.destroyStreams();
  }

  private destroyStreams(): void {
    this.input?.destroy();
    const chunks = this.chunks;
    if (chunks?.return) chunks.return().catch(() => undefined);
    this.input = null;
    this.chunks = null;
  }
}
