/**
 * publish/: what dockwatch gives back to the world, built from the store — the corrected GBFS
 * feed, Atom feeds of state changes, and data exports (CSV, Parquet). Pure builders and streams:
 * the HTTP routes live in api/routes (gbfs.ts, feeds.ts, exports.ts).
 */
export * from './gbfs/index.js';
export * from './atom.js';
export * from './exports/index.js';
export {
  PUBLISH_DEFAULTS,
  requestOrigin,
  resolvePublishOptions,
  type PublishOptions,
  type ResolvedPublishOptions,
} from './options.js';
export { rfc3339 } from './time.js';
