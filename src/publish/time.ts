/** Time formats of the published documents. Domain times are POSIX seconds. */

/** RFC 3339 in UTC without fractional seconds: `2025-10-14T09:30:00Z` (GBFS 3.0, Atom, exports). */
export function rfc3339(timeSec: number): string {
  return new Date(timeSec * 1000).toISOString().replace('.000Z', 'Z');
}
