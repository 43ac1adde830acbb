/**
 * Reading a time range out of the store in bounded pages, oldest first, for the exports — never
 * the whole range in memory.
 */
import type { LoggedEvent } from '../../events/index.js';
import type { EventLog, Store, StoredStateChange } from '../../storage/index.js';
import type { EventRow, StateChangeRow } from './columns.js';
import type { ExportRange } from './range.js';

/**
 * The log is in document-time order (the producer refuses a document older than the last one it
 * accepted), except the events of station_information, which carry that document's own time and
 * can trail by up to its ttl (an hour for Vélib'). The scan starts and ends this much beyond the
 * range; rows are then kept exactly by time.
 */
export const LOG_TIME_SLACK_SEC = 3600;

/**
 * The `afterOffset` from which `log.read` returns first an event with time >= timeSec: binary
 * search over offsets, one single-event read per step (~25 reads for 30 M events).
 */
export async function offsetBefore(log: EventLog, timeSec: number): Promise<number> {
  let lo = 0;
  let hi = await log.lastOffset();
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [e] = await log.read(mid, 1);
    if (e === undefined || e.timeSec >= timeSec) hi = mid;
    else lo = e.offset; // every offset up to e.offset is before timeSec: skips pruned holes too
  }
  return lo;
}

export interface EventScan {
  startAfter: number;
  /** First offset past the scan (exclusive bound); rows beyond are never read. */
  endAfter: number;
}

export async function planEventScan(store: Store, range: ExportRange): Promise<EventScan> {
  const startAfter = await offsetBefore(store.log, range.sinceSec - LOG_TIME_SLACK_SEC);
  const endAfter = await offsetBefore(store.log, range.untilSec + LOG_TIME_SLACK_SEC);
  return { startAfter, endAfter: Math.max(startAfter, endAfter) };
}

/** Pages of the system's events with since <= time < until, in log order. */
export async function* eventPages(
  store: Store,
  system: string,
  range: ExportRange,
  scan: EventScan,
  pageRows: number,
): AsyncGenerator<EventRow[]> {
  const codes = await stationCodes(store, system);
  let after = scan.startAfter;
  let page: EventRow[] = [];
  while (after < scan.endAfter) {
    const batch: LoggedEvent[] = await store.log.read(after, Math.min(pageRows, scan.endAfter - after));
    if (batch.length === 0) break;
    for (const event of batch) {
      if (event.offset > scan.endAfter) break;
      if (event.system !== system || event.timeSec < range.sinceSec || event.timeSec >= range.untilSec)
        continue;
      page.push({ event, code: 'stationId' in event ? (codes.get(event.stationId) ?? null) : null });
      if (page.length >= pageRows) {
        yield page;
        page = [];
      }
    }
    after = batch[batch.length - 1]!.offset;
  }
  if (page.length > 0) yield page;
}

/** Whether the range holds more than `limit` events (reads at most `limit + 1` of them). */
export async function eventsOverLimit(
  store: Store,
  system: string,
  range: ExportRange,
  scan: EventScan,
  limit: number,
): Promise<boolean> {
  // Offsets are gapless: the scan's span bounds the count without reading anything.
  if (scan.endAfter - scan.startAfter <= limit) return false;
  let n = 0;
  for await (const page of eventPages(store, system, range, scan, 10_000)) {
    n += page.length;
    if (n > limit) return true;
  }
  return false;
}

const DAY_SEC = 86_400;

/**
 * State changes with since <= time < until, oldest first. The store pages them newest first, so
 * the range is walked in time windows small enough for one page each (halved when a window
 * overflows, doubled when pages come back sparse) and each window is reversed.
 */
export async function* stateChangePages(
  store: Store,
  system: string,
  range: ExportRange,
  pageRows: number,
): AsyncGenerator<StateChangeRow[]> {
  const codes = await stationCodes(store, system);
  const rows = (changes: StoredStateChange[]): StateChangeRow[] =>
    changes.map((change) => ({ change, code: codes.get(change.stationId) ?? null }));
  let from = range.sinceSec;
  let windowSec = DAY_SEC;
  while (from < range.untilSec) {
    const to = Math.min(range.untilSec, from + windowSec);
    // The store's untilSec is exclusive, like ours.
    const changes = await store.listStateChanges({
      system,
      sinceSec: from,
      untilSec: to,
      limit: pageRows + 1,
    });
    if (changes.length > pageRows && to - from > 1) {
      windowSec = Math.max(1, Math.floor((to - from) / 2));
      continue;
    }
    if (changes.length > pageRows) {
      // More changes in one second than a page: page through that second by id.
      const all: StoredStateChange[] = [];
      let beforeId: number | undefined;
      for (;;) {
        const part = await store.listStateChanges({
          system,
          sinceSec: from,
          untilSec: to,
          beforeId,
          limit: pageRows,
        });
        all.push(...part);
        if (part.length < pageRows) break;
        beforeId = part[part.length - 1]!.id;
      }
      all.reverse();
      for (let i = 0; i < all.length; i += pageRows) yield rows(all.slice(i, i + pageRows));
    } else if (changes.length > 0) {
      yield rows(changes.reverse());
    }
    from = to;
    // Grow back after a dense spot (e.g. every station leaving `learning` in the same document).
    if (changes.length <= pageRows / 2) windowSec = Math.min(windowSec * 2, 32 * DAY_SEC);
  }
}

/** Whether the range holds more than `limit` state changes (reads at most `limit + 1` of them). */
export async function stateChangesOverLimit(
  store: Store,
  system: string,
  range: ExportRange,
  limit: number,
): Promise<boolean> {
  let n = 0;
  for await (const page of stateChangePages(store, system, range, Math.min(10_000, limit + 1))) {
    n += page.length;
    if (n > limit) return true;
  }
  return false;
}

async function stationCodes(store: Store, system: string): Promise<Map<string, string>> {
  const infos = await store.listStationInfo(system);
  return new Map(infos.map((i) => [i.stationId, i.code || i.stationId]));
}
