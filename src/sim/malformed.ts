/**
 * Bodies for the `malformed` fault — the three ways real feeds have broken:
 * - garbage: an HTML error page from a proxy, served with a JSON content type;
 * - truncated: the real document cut mid-way (a connection dropped behind a cache);
 * - wrong_shape: valid JSON that is not the document (an API error envelope, no data.stations).
 * `mixed` cycles through the three, by the number of the spoiled response.
 */
const MODES = ['garbage', 'truncated', 'wrong_shape'] as const;

export function malformedBody(
  mode: string,
  serial: number,
  goodBody: string,
  lastUpdatedSec: number,
): string {
  const m = mode === 'mixed' ? MODES[(serial - 1) % MODES.length] : mode;
  if (m === 'garbage') {
    return '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n';
  }
  if (m === 'truncated') return goodBody.slice(0, Math.max(1, Math.floor(goodBody.length * 0.6)));
  return JSON.stringify({
    last_updated: lastUpdatedSec,
    error: { code: 503, message: 'backend unavailable' },
  });
}
