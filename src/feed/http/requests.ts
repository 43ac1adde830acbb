import type { Logger } from '../../log/index.js';
import { metrics } from '../../metrics/index.js';
import type { FeedName, Rejection } from '../model.js';
import { FeedHttpError, describeCause } from './errors.js';
import type { FetchResult, HttpFetcher } from './fetcher.js';
import type { HealthTracker } from './health.js';

/**
 * The watcher's side effects in one place: GETs counted in `dockwatch_polls_total`, rejections
 * counted, logged and handed to `onRejection`, handlers run so that their failure is only logged.
 */
export class FeedRequests {
  constructor(
    private readonly system: string,
    private readonly fetcher: HttpFetcher,
    private readonly health: HealthTracker,
    private readonly log: Logger,
    private readonly onRejection: ((rejection: Rejection, meta: { url: string }) => void) | undefined,
  ) {}

  /** GET with metrics; an unreachable feed is also an `http_error` rejection. Rethrows. */
  async get(feed: FeedName, url: string, signal: AbortSignal, conditional = true): Promise<FetchResult> {
    try {
      const res = await this.fetcher.get(url, { signal, conditional });
      metrics.polls.inc({ system: this.system, feed, outcome: res.kind });
      return res;
    } catch (err) {
      if (!signal.aborted) {
        metrics.polls.inc({ system: this.system, feed, outcome: 'error' });
        this.reject({ feed, stationId: null, reason: 'http_error', message: describeCause(err) }, url);
      }
      throw err;
    }
  }

  /**
   * A GET whose failure does not fail the poll (catalogue, system information): logged, null.
   * `optional`: a guessed URL, where 404 means the feed has no such file ('missing'), not an outage.
   */
  async tryGet(
    feed: FeedName,
    url: string,
    signal: AbortSignal,
    optional = false,
  ): Promise<FetchResult | 'missing' | null> {
    try {
      return await this.get(feed, url, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (optional && err instanceof FeedHttpError && err.status === 404) {
        this.log.info({ url }, `no ${feed} at ${url}; going on without it`);
        return 'missing';
      }
      const why = describeCause(err);
      this.log.warn({ url, err: why }, `${feed} unavailable: ${why}; keeping the last one`);
      return null;
    }
  }

  reject(rejection: Rejection, url: string): void {
    this.health.count(rejection);
    // Repeats are routine (a feed ttl longer than our interval); http errors are logged by the poll loop.
    if (rejection.reason === 'duplicate_document') this.log.debug({ url }, rejection.message);
    else if (rejection.reason !== 'http_error')
      this.log.warn({ url, reason: rejection.reason }, rejection.message);
    void this.call('onRejection', () => this.onRejection?.(rejection, { url }));
  }

  /** Station-level rejections: counted one by one, logged once per document. */
  rejectAll(rejections: Rejection[], url: string): void {
    if (rejections.length === 0) return;
    for (const r of rejections) {
      this.health.count(r);
      void this.call('onRejection', () => this.onRejection?.(r, { url }));
    }
    const first = rejections[0]!;
    this.log.warn(
      { url, count: rejections.length, reason: first.reason },
      `${rejections.length} entries dropped from ${url}, e.g. ${first.message}`,
    );
  }

  /** Run a handler; its failure is logged and never stops the watcher. */
  call(name: string, fn: () => unknown): Promise<void> {
    const failed = (err: unknown): void =>
      this.log.error({ err: describeCause(err) }, `${name} handler failed; the watcher goes on`);
    try {
      return Promise.resolve(fn()).then(() => undefined, failed);
    } catch (err) {
      failed(err);
      return Promise.resolve();
    }
  }
}
