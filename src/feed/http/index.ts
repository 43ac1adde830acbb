/** Fetching GBFS feeds over HTTP and polling one system. */
export { fullJitterDelayMs } from './backoff.js';
export { FeedHttpError } from './errors.js';
export type { FeedHttpErrorKind } from './errors.js';
export { HttpFetcher } from './fetcher.js';
export type { FetchResult, HttpFetcherOptions } from './fetcher.js';
export { ManualScheduler, realScheduler, sleep } from './scheduler.js';
export type { Scheduler, TimerHandle } from './scheduler.js';
export { feedSourceFromUrl } from './sources.js';
export type { FeedSource } from './sources.js';
export { DOCKWATCH_VERSION, USER_AGENT } from './version.js';
export { FeedWatcher } from './watcher.js';
export type { FeedWatcherHandlers, FeedWatcherOptions } from './watcher.js';
