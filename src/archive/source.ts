import { isAscii } from 'node:buffer';
import { createReadStream, type ReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { createBrotliDecompress } from 'node:zlib';
import type { ArchiveFeed, ArchiveFile } from './files.js';
import { scanDocumentTimeSec } from './scan-time.js';
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
/**
 * A line left unparsed (see FeedSource.next's `allowRaw`): its bytes, and what the parser would
 * need to report it as readArchive does if it turns out not to be JSON.
 */
export interface RawLine {
  /** The line, in a buffer of its own. */
  text: Buffer;
  file: string;
  line: number;
  /** Appended to the bad-line message after the line number (empty, or the damaged-file note). */
  where: string;
}

/**
 * JSON.parse of one line. A line holds whole characters. Status documents are ASCII: copied as
 * Latin-1 (the same characters) the text costs a third of UTF-8 decoding.
 */
export function parseLine(line: Buffer): unknown {
  return JSON.parse(isAscii(line) ? line.toString('latin1') : line.toString('utf8'));
}

/** The error readArchive reports for a line that is not JSON. */
export function badLineError(file: string, line: number, where: string, err: unknown): ArchiveError {
  return {
    file,
    line,
    kind: 'bad_line',
    message: `line ${line} is not JSON${where}: ${(err as Error).message}`,
  };
}

export class FeedSource {
  doc: unknown = null;
  timeSec = 0;
  /** Set instead of `doc` when the current document was left unparsed. */
  raw: RawLine | null = null;
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
  /**
   * The last raw line, while no document with a time was parsed after it (its length; its bytes
   * in `unverifiedCopy`, reused). Its time is taken on trust: should the next document have no time
   * of its own (it takes its feed's previous time), parsing this copy says whether the raw line's
   * time or the one before counts. At most one raw line at a time, so the next line is parsed here:
   * the copy stays one buffer (the raw line's own bytes go to another thread).
   */
  private unverifiedBytes = -1;
  private unverifiedCopy: Buffer = Buffer.alloc(0);
  /** The time of the feed's last parsed document with a time (or settled, see above). */
  private verifiedTimeSec = 0;

  constructor(
    readonly feed: ArchiveFeed,
    private readonly files: ArchiveFile[],
    private readonly stats: ArchiveStats,
    private readonly onError: (e: ArchiveError) => void,
    /** Where a raw line is copied (a buffer of at least `bytes`; see readArchive's `rawBuffer`). */
    private readonly rawBuffer: (bytes: number) => Buffer = (bytes) => Buffer.allocUnsafeSlow(bytes),
  ) {}

  /** Compressed bytes read so far from this feed's files. */
  get bytesRead(): number {
    return this.doneBytes + (this.input ? Math.max(this.fileBytesSeen, this.input.bytesRead) : 0);
  }

  /**
   * Advance to the next good document; false at the end of the last file. With `allowRaw`, a line
   * whose time its tail gives (scanDocumentTimeSec) is not parsed: `raw` holds it instead of `doc`,
   * counted in `lines`, and whoever parses it reports it if it is not JSON. Call `parseRaw()`
   * before anything depends on it being a good line (see readArchive).
   */
  async next(allowRaw = false): Promise<boolean> {
    this.raw = null;
    for (;;) {
      const line = await this.nextLine();
      if (line === null) return false;
      if (line.length === 0 || (line.length === 1 && line[0] === 13)) continue;
      this.stats.lines++;
      if (allowRaw && this.unverifiedBytes === -1) {
        const t = scanDocumentTimeSec(line);
        if (t === t) {
          // Its own copy: the line may sit in the reused join buffer or a chunk.
          const text = this.rawBuffer(line.length).subarray(0, line.length);
          line.copy(text);
          this.raw = { text, file: this.file?.path ?? '', line: this.lineNo, where: this.damagedNote() };
          if (this.unverifiedCopy.length < line.length)
            this.unverifiedCopy = Buffer.allocUnsafeSlow(
              Math.max(line.length, 2 * this.unverifiedCopy.length),
            );
          this.unverifiedBytes = line.copy(this.unverifiedCopy);
          this.timeSec = t;
          this.doc = undefined;
          return true;
        }
      }
      if (this.accept(line)) return true;
    }
  }

  /**
   * Parse the current raw line here after all. False when it is not JSON: then it is reported and
   * counted as any bad line, and the source moves on to the next good document (parsed), as
   * `next()` would have; false again at the end of the last file.
   */
  async parseRaw(): Promise<boolean> {
    const raw = this.raw;
    if (raw === null) return true;
    this.raw = null;
    this.unverifiedBytes = -1;
    if (this.accept(raw.text, raw)) return true;
    return this.next(false);
  }

  /** JSON.parse one line into `doc`; false (reported, counted) when it is not JSON. */
  private accept(line: Buffer, from?: RawLine): boolean {
    let doc: unknown;
    try {
      doc = parseLine(line);
    } catch (err) {
      this.stats.badLines++;
      this.onError(
        from
          ? badLineError(from.file, from.line, from.where, err)
          : badLineError(this.file?.path ?? '', this.lineNo, this.damagedNote(), err),
      );
      return false;
    }
    const t = documentTimeSec(doc);
    if (t === t) {
      this.timeSec = t;
      this.verifiedTimeSec = t;
      this.unverifiedBytes = -1;
    } else {
      this.stats.untimed++;
      // The time of the feed's last good document (not that of a raw line that was not JSON).
      this.timeSec = this.unverifiedBytes !== -1 ? this.settleUnverified() : this.verifiedTimeSec;
    }
    this.doc = doc;
    return true;
  }

  /**
   * The time an untimed document inherits after a raw line: the raw line's if it parses (its
   * scanned time is then exact), else the last parsed document's. Rare: costs a parse.
   */
  private settleUnverified(): number {
    let t = this.verifiedTimeSec;
    try {
      t = documentTimeSec(parseLine(this.unverifiedCopy.subarray(0, this.unverifiedBytes)));
    } catch {
      // Not JSON: whoever parses the raw line reports it.
    }
    this.unverifiedBytes = -1;
    this.verifiedTimeSec = t;
    return t;
  }

  private damagedNote(): string {
    return this.fileFailed && this.chunks === null ? ' (cut short: last line of a damaged file)' : '';
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
