import { silentLogger, type Logger } from '../../log/index.js';
import { metrics } from '../../metrics/index.js';
import type { FeedHealth } from '../../storage/index.js';
import type {
  BikeType,
  InformationDocument,
  Rejection,
  StatusDocument,
  SystemInformation,
} from '../model.js';
import {
  checkDocumentTime,
  parseDiscovery,
  parseStationInformation,
  parseStationStatus,
  parseSystemInformation,
  parseVehicleTypes,
  type FeedUrls,
} from '../parse/index.js';
import { StationCatalogue } from './catalogue.js';
import { FeedHttpError, describeCause } from './errors.js';
import { HttpFetcher } from './fetcher.js';
import { HealthTracker } from './health.js';
import { FeedRequests } from './requests.js';
import { realScheduler, type Scheduler, type TimerHandle } from './scheduler.js';
import { feedSourceFromUrl, type FeedSource } from './sources.js';

type Awaitable = void | Promise<void>;

export interface FeedWatcherHandlers {
  /** An accepted station_status document (its timestamp advanced), with the raw body. */
  onStatus?(doc: StatusDocument, meta: { raw: string; rejections: Rejection[] }): Awaitable;
  /** A station catalogue whose stations changed; always before the status document that needed it. */
  onInformation?(doc: InformationDocument, meta: { raw: string; rejections: Rejection[] }): Awaitable;
  /** `timeSec`: when it was fetched (SystemInformation carries no timestamp). */
  onSystemInformation?(info: SystemInformation, meta: { raw: string; timeSec: number }): Awaitable;
  onVehicleTypes?(types: Map<string, BikeType>, meta: { raw: string; timeSec: number }): Awaitable;
  /** A refused document or station, already counted in `dockwatch_rejected_total`. */
  onRejection?(rejection: Rejection, meta: { url: string }): void;
  /** The feed went stale (no new station_status for more than 3 poll intervals) or fresh again. */
  onHealth?(health: FeedHealth): void;
}

export interface FeedWatcherOptions {
  /** System id: metric label and `FeedHealth.system`. */
  system: string;
  /** gbfs.json, or a station_status URL polled directly (see feedSourceFromUrl). */
  feedUrl: string;
  /** Direct mode only: where station_information is, when not beside station_status. */
  stationInformationUrl?: string;
  pollIntervalMs?: number;
  /** Preferred language in gbfs.json and in localised names. */
  language?: string;
  scheduler?: Scheduler;
  fetcher?: HttpFetcher;
  logger?: Logger;
  handlers?: FeedWatcherHandlers;
}

/**
 * Polls one system: gbfs.json, system_information, vehicle_types and station_information first, then
 * station_status every `pollIntervalMs`. Constructing it does nothing; `start()` begins, `stop()`
 * ends, and all time comes from the injected `Scheduler`. Nothing the feed does makes it throw:
 * failures are logged, counted and retried at the next tick; handlers' errors are logged.
 */
export class FeedWatcher {
  readonly system: string;
  readonly pollIntervalMs: number;
  private readonly source: FeedSource;
  private readonly language: string | undefined;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly handlers: FeedWatcherHandlers;
  private readonly healthState: HealthTracker;
  private readonly catalogue = new StationCatalogue();
  private readonly requests: FeedRequests;

  private running = false;
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private urls: FeedUrls | null = null;
  /** system_information / vehicle_types still to fetch (retried with the catalogue until they succeed). */
  private needStatic = true;
  private vehicleTypes: Map<string, BikeType> | undefined;

  constructor(opts: FeedWatcherOptions) {
    this.system = opts.system;
    this.pollIntervalMs = opts.pollIntervalMs ?? 60_000;
    const overrides = opts.stationInformationUrl ? { stationInformation: opts.stationInformationUrl } : {};
    this.source = feedSourceFromUrl(opts.feedUrl, overrides);
    this.language = opts.language;
    this.scheduler = opts.scheduler ?? realScheduler;
    this.log = (opts.logger ?? silentLogger).child({ system: opts.system });
    this.handlers = opts.handlers ?? {};
    this.healthState = new HealthTracker(this.system, this.pollIntervalMs, this.log);
    const fetcher = opts.fetcher ?? new HttpFetcher();
    this.requests = new FeedRequests(
      this.system,
      fetcher,
      this.healthState,
      this.log,
      this.handlers.onRejection?.bind(this.handlers),
    );
  }

  /** Begin polling: the first cycle runs at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.healthState.lastAdvanceMs = this.scheduler.now();
    metrics.feedStale.set({ system: this.system }, 0);
    this.runCycle();
  }

  /** Stop polling: aborts a request in flight, resolves once the current cycle is over. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.scheduler.clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort(new Error('watcher stopped'));
    await this.inFlight;
  }

  /** Resolves when no cycle is running (tests: after moving the clock). */
  async whenIdle(): Promise<void> {
    await this.inFlight;
  }

  health(): FeedHealth {
    return this.healthState.snapshot();
  }

  private runCycle(): void {
    this.timer = null;
    if (!this.running) return;
    const abort = new AbortController();
    this.abort = abort;
    const startMs = this.scheduler.now();
    this.inFlight = this.cycle(abort.signal).then((failure) => {
      this.inFlight = null;
      this.abort = null;
      if (this.healthState.updateStale(this.scheduler.now()))
        void this.requests.call('onHealth', () => this.handlers.onHealth?.(this.health()));
      if (!this.running) return;
      const nowMs = this.scheduler.now();
      const nextMs = Math.max(nowMs, startMs + this.pollIntervalMs);
      this.timer = this.scheduler.setTimeout(() => this.runCycle(), nextMs - nowMs);
      if (failure) {
        const next = new Date(nextMs).toISOString();
        const url = failure instanceof FeedHttpError ? failure.url : undefined;
        const n = this.healthState.consecutiveFailures;
        this.log.warn(
          { url, err: failure.message, nextTryAt: next },
          `${failure.message}; next try at ${next} (failure ${n} in a row)`,
        );
      }
    });
  }

  /** One poll. Resolves with the error that made it fail (feed unreachable), null otherwise; never rejects. */
  private async cycle(signal: AbortSignal): Promise<Error | null> {
    const health = this.healthState;
    health.lastPollMs = this.scheduler.now();
    try {
      const urls = this.urls ?? (await this.discover(signal));
      if (this.scheduler.now() >= this.catalogue.dueMs) {
        this.catalogue.forgetUnresolved();
        await this.fetchInformation(urls, signal);
      }
      await this.pollStatus(urls, signal);
      health.consecutiveFailures = 0;
      return null;
    } catch (err) {
      if (signal.aborted) return null;
      health.consecutiveFailures++;
      health.lastError = describeCause(err);
      // A feed that moved (404/410 on a discovered URL): read gbfs.json again next time.
      if (
        err instanceof FeedHttpError &&
        (err.status === 404 || err.status === 410) &&
        this.source.kind === 'discovery'
      ) {
        this.urls = null;
      }
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private async discover(signal: AbortSignal): Promise<FeedUrls> {
    if (this.source.kind === 'direct') return (this.urls = this.source.urls);
    const url = this.source.url;
    const res = await this.requests.get('gbfs', url, signal, false);
    if (res.kind !== 'ok') throw new Error(`${url} answered 304 to an unconditional GET`);
    const parsed = parseDiscovery(res.body, this.language ? { language: this.language } : {});
    if (!parsed.ok) {
      this.requests.reject(parsed.rejection, url);
      throw new Error(`${url}: ${parsed.rejection.message}`);
    }
    this.needStatic = true;
    this.catalogue.dueMs = 0;
    this.log.info({ feeds: parsed.doc }, `feeds discovered from ${url}`);
    return (this.urls = parsed.doc);
  }

  private async fetchStatic(urls: FeedUrls, signal: AbortSignal): Promise<void> {
    let ok = true;
    const timeSec = Math.floor(this.scheduler.now() / 1000);
    const lang = this.language ? { language: this.language } : {};
    if (urls.systemInformation) {
      const url = urls.systemInformation;
      const res = await this.requests.tryGet(
        'system_information',
        url,
        signal,
        this.source.kind === 'direct',
      );
      if (res === 'missing') urls.systemInformation = null;
      else if (res === null) ok = false;
      else if (res.kind === 'ok') {
        const parsed = parseSystemInformation(res.body, lang);
        if (!parsed.ok) this.requests.reject(parsed.rejection, url);
        else
          await this.requests.call('onSystemInformation', () =>
            this.handlers.onSystemInformation?.(parsed.doc, { raw: res.body, timeSec }),
          );
      }
    }
    if (urls.vehicleTypes) {
      const url = urls.vehicleTypes;
      const res = await this.requests.tryGet('vehicle_types', url, signal);
      if (res === null || res === 'missing') ok = false;
      else if (res.kind === 'ok') {
        const parsed = parseVehicleTypes(res.body);
        if (!parsed.ok) this.requests.reject(parsed.rejection, url);
        else {
          this.vehicleTypes = parsed.doc;
          this.requests.rejectAll(parsed.rejections, url);
          await this.requests.call('onVehicleTypes', () =>
            this.handlers.onVehicleTypes?.(parsed.doc, { raw: res.body, timeSec }),
          );
        }
      }
    }
    this.needStatic = !ok;
  }

  private async fetchInformation(urls: FeedUrls, signal: AbortSignal): Promise<void> {
    const nowMs = this.scheduler.now();
    const catalogue = this.catalogue;
    catalogue.lastAttemptMs = nowMs;
    if (this.needStatic) await this.fetchStatic(urls, signal);
    const url = urls.stationInformation;
    const res = await this.requests.tryGet('station_information', url, signal);
    // Unreachable: try again at the next tick; not modified or refused: at the next refresh.
    if (res === null || res === 'missing') catalogue.dueMs = nowMs + this.pollIntervalMs;
    else catalogue.scheduleRefresh(nowMs);
    if (res === null || res === 'missing' || res.kind !== 'ok') return;
    const parsed = parseStationInformation(res.body, {
      ...(this.language ? { language: this.language } : {}),
      ...(urls.version ? { feedVersion: urls.version } : {}),
    });
    if (!parsed.ok) return this.requests.reject(parsed.rejection, url);
    const doc = parsed.doc;
    catalogue.scheduleRefresh(nowMs, doc.ttlSec);
    this.requests.rejectAll(parsed.rejections, url);
    if (!catalogue.accept(doc)) return;
    await this.requests.call('onInformation', () =>
      this.handlers.onInformation?.(doc, { raw: res.body, rejections: parsed.rejections }),
    );
  }

  private async pollStatus(urls: FeedUrls, signal: AbortSignal): Promise<void> {
    const url = urls.stationStatus;
    const health = this.healthState;
    const res = await this.requests.get('station_status', url, signal);
    health.lastSuccessMs = this.scheduler.now();
    if (res.kind !== 'ok') return; // 304: nothing new
    const parsed = parseStationStatus(res.body, {
      capacities: this.catalogue.capacities,
      ...(this.vehicleTypes ? { vehicleTypes: this.vehicleTypes } : {}),
      ...(urls.version ? { feedVersion: urls.version } : {}),
    });
    if (!parsed.ok) {
      health.lastError = parsed.rejection.message;
      return this.requests.reject(parsed.rejection, url);
    }
    const doc = parsed.doc;
    const timing = checkDocumentTime(
      health.lastDocumentSec,
      doc.lastUpdatedSec,
      Math.floor(this.scheduler.now() / 1000),
    );
    if (timing) return this.requests.reject(timing, url);
    this.requests.rejectAll(parsed.rejections, url);

    if (this.catalogue.lacksStationOf(doc) && this.catalogue.mayRefetchAt(this.scheduler.now())) {
      this.log.info(
        'station_status names stations missing from station_information: refreshing the catalogue',
      );
      await this.fetchInformation(urls, signal);
      this.catalogue.markUnresolved(doc);
    }
    health.advanced(doc.lastUpdatedSec, this.scheduler.now());
    await this.requests.call('onStatus', () =>
      this.handlers.onStatus?.(doc, { raw: res.body, rejections: parsed.rejections }),
    );
  }
}
