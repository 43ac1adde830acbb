import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { constants, createBrotliCompress, type BrotliCompress } from 'node:zlib';
import { archiveFileName, type ArchiveFeed } from './files.js';

interface OpenFile {
  day: string;
  path: string;
  handle: FileHandle;
  compressor: BrotliCompress;
  /** Compressed output not yet written to the file. */
  pending: Buffer[];
  ended: Promise<void>;
}

/** UTC calendar day of a POSIX time, `YYYY-MM-DD`. */
export function utcDay(timeSec: number): string {
  return new Date(timeSec * 1000).toISOString().slice(0, 10);
}

/**
 * Appends raw documents to `DIR/<feed>.<YYYY-MM-DD>.jsonl.br`, one document per line.
 *
 * - The day is the UTC day of the *document* time (not the wall clock), so a recording and its replay
 *   agree on file boundaries. A document older than the current file's day (a station_information
 *   that has not changed for days) goes into the current file: files never reopen a past day.
 * - After each document the compressor is flushed (BROTLI_OPERATION_FLUSH) and the bytes handed to
 *   the OS before `write` resolves: a crash loses at most the document being written. Such a file
 *   lacks brotli's end marker; the reader reports it and keeps every line.
 * - A brotli stream cannot be continued once its writer is gone, so when a day's file already exists
 *   (restart) the writer opens `<feed>.<day>.<n>.jsonl.br`.
 */
export class ArchiveWriter {
  private readonly files = new Map<ArchiveFeed, OpenFile>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private signalHandler: ((signal: NodeJS.Signals) => void) | null = null;
  private signals: NodeJS.Signals[] = [];
  private readonly quality: number;

  /**
   * @param opts.quality brotli quality 0–11 (default 9: near-best ratio on these repetitive documents at
   *   a fraction of 11's CPU).
   * @param opts.closeOnSignals e.g. ['SIGINT', 'SIGTERM']: close cleanly when the process gets one.
   */
  constructor(
    readonly dir: string,
    opts: { quality?: number; closeOnSignals?: NodeJS.Signals[] } = {},
  ) {
    this.quality = opts.quality ?? 9;
    if (opts.closeOnSignals?.length) this.installSignalHandler(opts.closeOnSignals);
  }

  /**
   * Append one raw document; `timeSec` is its document time (it picks the day file). Writes are
   * serialised in call order; the promise resolves once the line is in the OS's hands.
   */
  write(feed: ArchiveFeed, raw: string, timeSec: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ArchiveWriter is closed'));
    // A body pretty-printed on several lines: outside strings JSON allows only whitespace there, and
    // inside strings raw CR/LF are illegal, so replacing them by spaces keeps the document identical.
    const line = raw.includes('\n') || raw.includes('\r') ? raw.replace(/[\r\n]/g, ' ') : raw;
    const run = this.queue.then(() => this.append(feed, line, timeSec));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Finish every file (brotli end marker) and close it. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return this.queue;
    this.closed = true;
    this.removeSignalHandler();
    await this.queue;
    for (const file of this.files.values()) await this.finish(file);
    this.files.clear();
  }

  /** Paths of the files currently open, by feed. */
  openFiles(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [feed, f] of this.files) out[feed] = f.path;
    return out;
  }

  private async append(feed: ArchiveFeed, line: string, timeSec: number): Promise<void> {
    let file = this.files.get(feed);
    const day = Number.isFinite(timeSec) ? utcDay(timeSec) : (file?.day ?? utcDay(Date.now() / 1000));
    if (file && day > file.day) {
      await this.finish(file);
      this.files.delete(feed);
      file = undefined;
    }
    if (!file) {
      file = await this.openFile(feed, day);
      this.files.set(feed, file);
    }
    const { compressor } = file;
    compressor.write(line + '\n');
    await new Promise<void>((resolve) => compressor.flush(constants.BROTLI_OPERATION_FLUSH, () => resolve()));
    // Output pushed before the flush callback may still sit in a nextTick-scheduled 'data' emit.
    await new Promise((resolve) => setImmediate(resolve));
    await this.drain(file);
  }

  private async openFile(feed: ArchiveFeed, day: string): Promise<OpenFile> {
    await mkdir(this.dir, { recursive: true });
    for (let part = 0; ; part++) {
      const p = path.join(this.dir, archiveFileName(feed, day, part));
      let handle: FileHandle;
      try {
        handle = await open(p, 'wx'); // never overwrite, never append to a finished stream
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      const compressor = createBrotliCompress({
        params: {
          [constants.BROTLI_PARAM_QUALITY]: this.quality,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      });
      const pending: Buffer[] = [];
      compressor.on('data', (chunk: Buffer) => pending.push(chunk));
      const ended = new Promise<void>((resolve, reject) => {
        compressor.once('end', resolve);
        compressor.once('error', reject);
      });
      ended.catch(() => {}); // awaited in finish(); this only keeps an early error from going unhandled
      return { day, path: p, handle, compressor, pending, ended };
    }
  }

  private async drain(file: OpenFile): Promise<void> {
    if (file.pending.length === 0) return;
    const data = Buffer.concat(file.pending);
    file.pending.length = 0;
    await file.handle.write(data);
  }

  private async finish(file: OpenFile): Promise<void> {
    file.compressor.end();
    await file.ended;
    await this.drain(file);
    await file.handle.close();
  }

  /**
   * Close cleanly on e.g. SIGINT, then re-raise the signal once our handler is gone so the process
   * ends the way it would have without us (unless someone else also listens).
   */
  private installSignalHandler(signals: NodeJS.Signals[]): void {
    const handler = (signal: NodeJS.Signals): void => {
      this.close()
        .catch(() => {})
        .finally(() => {
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
    };
    this.signalHandler = handler;
    this.signals = signals;
    for (const s of signals) process.on(s, handler);
  }

  private removeSignalHandler(): void {
    const h = this.signalHandler;
    if (!h) return;
    for (const s of this.signals) process.removeListener(s, h);
    this.signalHandler = null;
  }
}
