import type { Rejection } from '../feed/model.js';
import type { Logger } from '../log/index.js';
import { metrics } from '../metrics/index.js';

/** Logs only the first few of each reason in full: a broken archive must not drown the log. */
const LOGGED_PER_REASON = 20;

/** Counts rejected inputs by reason (metrics + summary), with one log line per rejection. */
export class RejectionCounter {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    public system: string,
  ) {}

  add(r: Rejection): void {
    const n = (this.counts.get(r.reason) ?? 0) + 1;
    this.counts.set(r.reason, n);
    metrics.rejected.inc({ system: this.system, feed: r.feed, reason: r.reason });
    if (n <= LOGGED_PER_REASON) {
      this.logger.warn(
        { system: this.system, feed: r.feed, station: r.stationId, reason: r.reason },
        r.message,
      );
    } else if (n === LOGGED_PER_REASON + 1) {
      this.logger.warn(
        { system: this.system, reason: r.reason },
        `more "${r.reason}" rejections: counting them quietly`,
      );
    }
  }

  addAll(rs: readonly Rejection[]): void {
    for (const r of rs) this.add(r);
  }

  byReason(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
