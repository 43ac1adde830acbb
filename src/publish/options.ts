/** Settings of what dockwatch publishes (corrected GBFS, Atom feeds, exports), with their defaults. */

export interface PublishOptions {
  /**
   * Absolute URL the service is reached at (e.g. https://dockwatch.example.org): links in GBFS and
   * Atom documents. Default: the scheme and Host of each request.
   */
  publicUrl?: string;
  /** GBFS `feed_contact_email` (required by GBFS 3.0). */
  feedContactEmail?: string;
  /** GBFS 3.0 `opening_hours` of the system, OpenStreetMap syntax. */
  openingHours?: string;
  /**
   * Tagging entity of the Atom ids (RFC 4151 `authority,date`): a domain or e-mail address the
   * publisher controls and a date when it did. Entry ids must never change once published.
   */
  tagEntity?: string;
  /** Most rows one export may hold; a range holding more is refused with 400. */
  exportMaxRows?: number;
  /** Longest range one export may cover. */
  exportMaxRangeDays?: number;
  /** Rows per Parquet row group (and per store read): bounds the memory of an export. */
  exportRowGroupRows?: number;
}

export const PUBLISH_DEFAULTS = {
  // `.invalid` (RFC 2606) cannot be delivered: obviously unset, never someone else's mailbox.
  feedContactEmail: 'feeds@dockwatch.invalid',
  openingHours: '24/7',
  tagEntity: 'dockwatch.invalid,2025',
  exportMaxRows: 1_000_000,
  exportMaxRangeDays: 31,
  exportRowGroupRows: 50_000,
} as const;

export type ResolvedPublishOptions = Omit<Required<PublishOptions>, 'publicUrl'> & {
  publicUrl: string | null;
};

export function resolvePublishOptions(opts: PublishOptions = {}): ResolvedPublishOptions {
  const positive = (v: number | undefined, d: number, name: string): number => {
    if (v === undefined) return d;
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
    return v;
  };
  let publicUrl: string | null = null;
  if (opts.publicUrl !== undefined && opts.publicUrl !== '') {
    const u = new URL(opts.publicUrl); // throws on a malformed URL: a configuration error, at start
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new Error(`publicUrl must be http(s), got ${opts.publicUrl}`);
    publicUrl = u.href.replace(/\/+$/, '');
  }
  return {
    publicUrl,
    feedContactEmail: opts.feedContactEmail || PUBLISH_DEFAULTS.feedContactEmail,
    openingHours: opts.openingHours || PUBLISH_DEFAULTS.openingHours,
    tagEntity: opts.tagEntity || PUBLISH_DEFAULTS.tagEntity,
    exportMaxRows: positive(opts.exportMaxRows, PUBLISH_DEFAULTS.exportMaxRows, 'exportMaxRows'),
    exportMaxRangeDays: positive(
      opts.exportMaxRangeDays,
      PUBLISH_DEFAULTS.exportMaxRangeDays,
      'exportMaxRangeDays',
    ),
    exportRowGroupRows: positive(
      opts.exportRowGroupRows,
      PUBLISH_DEFAULTS.exportRowGroupRows,
      'exportRowGroupRows',
    ),
  };
}

/** A Host header we accept to build links from (name or IP, optional port); anything else is replaced. */
const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * Absolute origin for the links of a response: the configured public URL, else the request's own
 * scheme and Host (fine on a LAN; set publicUrl behind a proxy or a CDN).
 */
export function requestOrigin(req: { protocol: string; host: string }, publicUrl: string | null): string {
  if (publicUrl !== null) return publicUrl;
  const host = SAFE_HOST.test(req.host) ? req.host : 'localhost';
  return `${req.protocol === 'https' ? 'https' : 'http'}://${host}`;
}
