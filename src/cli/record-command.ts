import { createLogger } from '../log/index.js';
import { runRecord } from './record.js';

export async function runRecordCommand(opts: {
  feed: string;
  out: string;
  pollIntervalSec: string;
  logLevel?: string;
}): Promise<void> {
  const pollIntervalSec = Number(opts.pollIntervalSec);
  if (!Number.isInteger(pollIntervalSec) || pollIntervalSec <= 0) {
    throw new Error(
      `--poll-interval-sec must be a whole number of seconds > 0, got "${opts.pollIntervalSec}"`,
    );
  }
  const logger = createLogger(opts.logLevel ? { level: opts.logLevel } : {});
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  await runRecord({
    feedUrl: opts.feed,
    outDir: opts.out,
    pollIntervalMs: pollIntervalSec * 1000,
    logger,
    signal: controller.signal,
  });
}
