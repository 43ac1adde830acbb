/**
 * dockwatch's extension of station_status. GBFS allows fields outside the specification ("Extensions
 * Outside of the Specification", gbfs.md) and asks that their names start with an underscore so
 * they never clash with a future official field; the official schemas leave station objects open
 * (no `additionalProperties: false`), so documents with them still validate. Documented in
 * docs/feeds.md.
 */
import type { CorrectedStation } from './source.js';

export interface DockwatchExtension {
  /** Shown state: ok, locked, rent_blocked, return_blocked, bikes_stuck, docks_blocked, learning, or the feed's closed / inactive / not_renting / not_returning. */
  _dockwatch_state: string;
  /** 0..1; absent while the station has not been judged yet. */
  _dockwatch_confidence?: number;
  /** Since when the state holds, in the version's time format; absent when unknown. */
  _dockwatch_since?: number | string;
  /** What the watched feed itself says, before our correction. */
  _dockwatch_feed_is_renting: boolean;
  _dockwatch_feed_is_returning: boolean;
}

export function extensionFields<T extends number | string>(
  c: CorrectedStation,
  time: (timeSec: number) => T,
): DockwatchExtension {
  const out: DockwatchExtension = {
    _dockwatch_state: c.state,
    _dockwatch_feed_is_renting: c.status.isRenting,
    _dockwatch_feed_is_returning: c.status.isReturning,
  };
  if (c.confidence !== null) out._dockwatch_confidence = c.confidence;
  if (c.sinceSec !== null) out._dockwatch_since = time(c.sinceSec);
  return out;
}
