/**
 * Where the corrected GBFS documents live. One folder per version, plus the two version-neutral
 * entry points GBFS defines:
 *
 *   /gbfs/gbfs.json                 auto-discovery (the 2.3 one: the version most consumers read)
 *   /gbfs/manifest.json             GBFS 3.0 manifest: every data set and its versions
 *   /gbfs/v2.3/{gbfs,gbfs_versions,system_information,station_information,station_status}.json
 *   /gbfs/v3.0/{gbfs,gbfs_versions,system_information,station_information,station_status}.json
 *
 * Those are the default system's; every system of the store also has the same files under
 * /gbfs/systems/{id}/ (the default system too), so a server watching several systems publishes
 * one feed per system at a stable address.
 */

export const GBFS_VERSIONS = ['2.3', '3.0'] as const;
export type GbfsVersion = (typeof GBFS_VERSIONS)[number];

export const GBFS_FILES = [
  'gbfs',
  'gbfs_versions',
  'system_information',
  'station_information',
  'station_status',
] as const;
export type GbfsFile = (typeof GBFS_FILES)[number];

/** Path prefix of the corrected feed on our server (the default system's). */
export const GBFS_PREFIX = '/gbfs';

/** Path prefix of one system's corrected feed: the default one, or /gbfs/systems/{id}. */
export function gbfsPrefix(systemId?: string): string {
  return systemId === undefined ? GBFS_PREFIX : `${GBFS_PREFIX}/systems/${encodeURIComponent(systemId)}`;
}

export class GbfsUrls {
  /**
   * `origin` is the absolute URL of the service (no trailing slash), e.g. https://dockwatch.example.org;
   * `prefix` the feed's path on it (gbfsPrefix()).
   */
  constructor(
    private readonly origin: string,
    private readonly prefix: string = GBFS_PREFIX,
  ) {}

  file(version: GbfsVersion, file: GbfsFile): string {
    return `${this.origin}${this.prefix}/v${version}/${file}.json`;
  }

  manifest(): string {
    return `${this.origin}${this.prefix}/manifest.json`;
  }

  /** The versions list both `gbfs_versions.json` and the manifest give, oldest first (as GBFS requires). */
  versions(): { version: GbfsVersion; url: string }[] {
    return GBFS_VERSIONS.map((version) => ({ version, url: this.file(version, 'gbfs') }));
  }
}
