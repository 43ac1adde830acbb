/**
 * The document time of a raw GBFS document, in POSIX seconds, or NaN when it has none.
 * `last_updated` is seconds in GBFS 1.x/2.x and an RFC 3339 string in 3.x; Vélib' sends
 * `lastUpdatedOther` instead. A number above 1e11 can only be milliseconds (year 5138 in seconds).
 */
export function documentTimeSec(doc: unknown): number {
  if (typeof doc !== 'object' || doc === null) return NaN;
  const root = doc as { last_updated?: unknown; lastUpdatedOther?: unknown };
  const v = root.last_updated ?? root.lastUpdatedOther;
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e11 ? Math.floor(v / 1000) : v;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return n > 1e11 ? Math.floor(n / 1000) : n;
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : NaN;
  }
  return NaN;
}
