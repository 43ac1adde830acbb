/**
 * serverless/: the AWS Lambda face of dockwatch (see docs/serverless.md). The handlers reuse the
 * pipeline, the API and the storage interface unchanged; src/serverless/entries/ are the bundled
 * entry points (one per function), infra/ the CDK stack that deploys them.
 */
export { serverlessConfig, type ServerlessConfig } from './config.js';
export { InvocationScheduler } from './invocation-scheduler.js';
export { FetchRunner, type FetchRunnerOptions, type FetchSummary } from './fetch-runner.js';
export { createFetchHandler, type FetchHandler, type FetchHandlerOptions } from './fetch-handler.js';
export { createApiLambda, type ApiHandler, type ApiHandlerOptions, type ApiLambda } from './api-handler.js';
export { LIVE_PATH, isLiveRequest, liveFallback } from './live-fallback.js';
export {
  createStreamHandler,
  type StreamHandler,
  type StreamHandlerOptions,
  type StreamSummary,
} from './stream-handler.js';
