import type { Logger } from '../../log/index.js';
import { metrics } from '../../metrics/index.js';
import type { FeedHealth } from '../../storage/index.js';
import type { Rejection } from '../model.js';

/** Stale after this many poll intervals without a new document. */
const STALE_AFTER_INTERVALS = 3;

/** The watcher's bookkeeping of one feed's health: failures, rejections, staleness. */
export class HealthTracker {
  lastDocumentSec: number | null = null;
  lastAdvanceMs = 0;
  stale = false;
  lastPollMs: number | null = null;
  lastSuccessMs: number | null = null;
  consecutiveFailures = 0;
  lastError: string | null = null;
  private readonly rejected: Record<string, number> = {};

  constructor(
    private readonly system: string,
    private readonly pollIntervalMs: number,
    private readonly log: Logger,
  ) {}

  snapshot(): FeedHealth {
    const sec = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000));
    return {
      system: this.system,
      lastDocumentSec: this.lastDocumentSec,
      lastPollSec: sec(this.lastPollMs),
      lastSuccessSec: sec(this.lastSuccessMs),
      stale: this.stale,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      rejected: { ...this.rejected },
    };
  }

  /** Count a rejection (metric + health). Logging is the caller's: it knows how loud to be. */
  count(rejection: Rejection): void {
    metrics.rejected.inc({ system: this.system, feed: rejection.feed, reason: rejection.reason });
    this.rejected[rejection.reason] = (this.rejected[rejection.reason] ?? 0) + 1;
  }

  /** A document whose timestamp advanced was accepted at `nowMs`. */
  advanced(documentSec: number, nowMs: number): void {
    this.lastDocumentSec = documentSec;
    this.lastAdvanceMs = nowMs;
    this.lastError = null;
  }

  /** Re-evaluate staleness at `nowMs`; true when it flipped (the caller then reports the health). */
  updateStale(nowMs: number): boolean {
    const stale = nowMs - this.lastAdvanceMs > STALE_AFTER_INTERVALS * this.pollIntervalMs;
    if (stale === this.stale) return false;
    this.stale = stale;
    metrics.feedStale.set({ system: this.system }, stale ? 1 : 0);
    const last =
      this.lastDocumentSec === null ? 'none yet' : new Date(this.lastDocumentSec * 1000).toISOString();
    if (stale) {
      this.log.warn(
        { lastDocumentSec: this.lastDocumentSec },
        `feed stale: no new station_status since ${last} (more than ${STALE_AFTER_INTERVALS} poll intervals)`,
      );
    } else this.log.info({ lastDocumentSec: this.lastDocumentSec }, 'feed fresh again');
    return true;
  }
}
