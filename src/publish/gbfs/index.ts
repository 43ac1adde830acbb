/** The corrected GBFS feed: documents of GBFS 2.3 and 3.0 built from the store, locks applied. */
import type { GbfsSource } from './source.js';
import { GbfsUrls, type GbfsFile, type GbfsVersion } from './urls.js';
import { buildV2 } from './v2.js';
import { buildV3, manifestV3 } from './v3.js';

export {
  correctStations,
  correctedFlags,
  loadGbfsSource,
  type CorrectedStation,
  type GbfsSource,
  type GbfsSystem,
  type LoadGbfsOptions,
} from './source.js';
export type { DockwatchExtension } from './extension.js';
export {
  GBFS_FILES,
  GBFS_PREFIX,
  GBFS_VERSIONS,
  GbfsUrls,
  gbfsPrefix,
  type GbfsFile,
  type GbfsVersion,
} from './urls.js';

/**
 * A document of one version; `origin` is the absolute URL of the service and `prefix` the feed's
 * path on it (gbfsPrefix(): the default system's /gbfs, or /gbfs/systems/{id}), for the links.
 */
export function buildGbfsDocument(
  version: GbfsVersion,
  file: GbfsFile,
  src: GbfsSource,
  origin: string,
  prefix?: string,
): unknown {
  const urls = new GbfsUrls(origin, prefix);
  return version === '2.3' ? buildV2(file, src, urls) : buildV3(file, src, urls);
}

/** The GBFS 3.0 manifest (`/gbfs/manifest.json`, `/gbfs/systems/{id}/manifest.json`). */
export function buildGbfsManifest(src: GbfsSource, origin: string, prefix?: string): unknown {
  return manifestV3(src, new GbfsUrls(origin, prefix));
}
