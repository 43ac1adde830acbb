import type { ActivityView } from '../detection/types.js';
import type { LoggedEvent } from '../events/types.js';
import type { SlotCount } from '../storage/types.js';
import { LocalClock, SLOTS_PER_DAY, SLOT_SEC, localClock } from './slots.js';

/**
 * Reserved station id of the rows that persist the watcher's observed time: `rented` holds the
 * seconds of that slot during which the watcher saw the feed (not blind), `returned` is 0.
 * Whoever sums activity rows (system totals) must skip this id.
 */
export const OBSERVED_STATION_ID = '~observed';
/** A day counts as history when the watcher saw the feed for more than half of it. */
export const MIN_OBSERVED_DAY_SEC = 43_200;
const DAY_SEC = 86_400;
/**
 * Rentals (or returns) of one station in one 10-minute slot of one day: 255 is one every 2.4 s,
 * beyond any real station; a byte each halves the model's memory (a count saturates, never wraps).
 */
const MAX_COUNT = 255;

export interface ActivityModelOptions {
  timeZone: string;
  /** Local days kept in memory, today included. 29 = four full weeks before today. */
  retainDays?: number;
}

/**
 * Usual activity, in memory: rentals and returns per station, local day and ten-minute slot, for
 * the last `retainDays` local days (a ring of day rows; older days are forgotten as new ones start).
 *
 * Memory: one Uint8Array of 144 × retainDays × 2 counts per station (8.4 KB for 29 days), i.e.
 * about 12.5 MB for Vélib's 1,500 stations, instead of millions of small objects. Slot-major: the
 * days of one slot are contiguous, so reading a window on four reference days touches a few
 * neighbouring cache lines instead of four scattered rows.
 */
export class ActivityModel implements ActivityView {
  readonly retainDays: number;
  private readonly clock: LocalClock;
  /** Day held by each ring row, -1 when empty. Shared by all stations. */
  private readonly rowDay: Int32Array;
  /** Observed (not blind) seconds per ring row and slot. */
  private readonly observedSlotSec: Uint16Array;
  private readonly observedDaySec: Int32Array;
  private readonly stations = new Map<string, { counts: Uint8Array; firstDay: number }>();
  /** Set by feed_gap: the snapshot of the same document closes a blind interval. */
  private blindUntilSec = Number.NEGATIVE_INFINITY;

  constructor(opts: ActivityModelOptions) {
    this.retainDays = opts.retainDays ?? 29;
    if (!Number.isInteger(this.retainDays) || this.retainDays < 2)
      throw new RangeError('retainDays must be an integer >= 2');
    this.clock = localClock(opts.timeZone);
    this.rowDay = new Int32Array(this.retainDays).fill(-1);
    this.observedSlotSec = new Uint16Array(this.retainDays * SLOTS_PER_DAY);
    this.observedDaySec = new Int32Array(this.retainDays);
  }

  /** Counts one logged event; returns the slot increments it produced, to be persisted. */
  apply(event: LoggedEvent): SlotCount[] {
    switch (event.type) {
      case 'rented':
      case 'returned': {
        const day = this.clock.day(event.timeSec);
        const slot = this.clock.slot(event.timeSec);
        const rented = event.type === 'rented' ? event.count : 0;
        const returned = event.count - rented;
        if (!this.add(event.stationId, day, slot, rented, returned)) return [];
        return [{ stationId: event.stationId, day, slot, rented, returned }];
      }
      case 'station_added': {
        const day = this.clock.day(event.timeSec);
        const slot = this.clock.slot(event.timeSec);
        if (!this.add(event.stationId, day, slot, 0, 0)) return [];
        // A zero row records the day the station was first observed (historyDays after a restart).
        return [{ stationId: event.stationId, day, slot, rented: 0, returned: 0 }];
      }
      case 'feed_gap':
        this.blindUntilSec = event.timeSec;
        return [];
      case 'snapshot':
        if (event.intervalSec === null || event.intervalSec <= 0 || event.timeSec === this.blindUntilSec)
          return [];
        return this.observe(event.timeSec - event.intervalSec, event.timeSec);
      default:
        return [];
    }
  }

  /** Rebuilds the model from persisted slots (after a restart). Rows older than the ring are ignored. */
  load(slots: SlotCount[]): void {
    let newest = -1;
    for (const s of slots) if (s.day > newest) newest = s.day;
    for (const s of slots) {
      if (s.day <= newest - this.retainDays) continue;
      if (s.stationId === OBSERVED_STATION_ID) this.addObserved(s.day, s.slot, s.rented);
      else this.add(s.stationId, s.day, s.slot, s.rented, s.returned);
    }
  }

  /**
   * Restores one persisted slot (after a restart), for slots streamed oldest day first: a day older
   * than the ring holds is ignored, as in load().
   */
  loadSlot(s: SlotCount): void {
    if (s.stationId === OBSERVED_STATION_ID) this.addObserved(s.day, s.slot, s.rented);
    else this.add(s.stationId, s.day, s.slot, s.rented, s.returned);
  }

  slotCount(stationId: string, timeSec: number, daysAgo: number, kind?: 'rented' | 'returned'): number {
    const st = this.stations.get(stationId);
    if (st === undefined) return 0;
    const day = this.clock.day(timeSec) - daysAgo;
    const row = day % this.retainDays;
    if (day < 0 || this.rowDay[row] !== day) return 0;
    const i = (this.clock.slot(timeSec) * this.retainDays + row) * 2;
    if (kind === 'rented') return st.counts[i]!;
    if (kind === 'returned') return st.counts[i + 1]!;
    return st.counts[i]! + st.counts[i + 1]!;
  }

  windowCounts(
    stationId: string,
    timeSec: number,
    slots: number,
    daysAgo: readonly number[],
    out: Float64Array,
  ): void {
    const n = daysAgo.length;
    for (let i = 0; i < n; i++) out[i] = 0;
    const st = this.stations.get(stationId);
    if (st === undefined) return;
    const counts = st.counts;
    const rowDay = this.rowDay;
    const ring = this.retainDays;
    for (let k = 0; k < slots; k++) {
      const t = timeSec - k * SLOT_SEC;
      const local = t + this.clock.offsetSec(t);
      const today = Math.floor(local / DAY_SEC);
      const base = Math.floor((local - today * DAY_SEC) / SLOT_SEC) * ring;
      for (let i = 0; i < n; i++) {
        const day = today - daysAgo[i]!;
        const row = day % ring;
        if (day < 0 || rowDay[row] !== day) continue;
        const j = (base + row) * 2;
        out[i] = out[i]! + counts[j]! + counts[j + 1]!;
      }
    }
  }

  /**
   * Past local days, since the station was first observed (that day included), on which the
   * watcher saw the feed for more than half of the day. Today does not count (it is not over), and
   * only days still in memory are counted.
   */
  historyDays(stationId: string, timeSec: number): number {
    const st = this.stations.get(stationId);
    if (st === undefined) return 0;
    const today = this.clock.day(timeSec);
    let n = 0;
    for (let day = Math.max(st.firstDay, today - this.retainDays + 1); day < today; day++) {
      const row = day % this.retainDays;
      if (this.rowDay[row] === day && this.observedDaySec[row]! > MIN_OBSERVED_DAY_SEC) n++;
    }
    return n;
  }

  slotOf(timeSec: number): number {
    return this.clock.slot(timeSec);
  }

  /** Local day of `timeSec` in the system's time zone. */
  dayOf(timeSec: number): number {
    return this.clock.day(timeSec);
  }

  /** Seconds the watcher saw the feed during a local day (0 when not in memory). */
  observedSec(day: number): number {
    const row = day % this.retainDays;
    return this.rowDay[row] === day ? this.observedDaySec[row]! : 0;
  }

  /** Oldest local day kept when the newest is `day`: load activity from this day after a restart. */
  oldestRetainedDay(day: number): number {
    return day - this.retainDays + 1;
  }

  get stationCount(): number {
    return this.stations.size;
  }

  /** Adds counts; false when the day is older than the ring holds (forgotten). */
  private add(stationId: string, day: number, slot: number, rented: number, returned: number): boolean {
    const row = this.claimRow(day);
    if (row < 0) return false;
    let st = this.stations.get(stationId);
    if (st === undefined) {
      st = { counts: new Uint8Array(this.retainDays * SLOTS_PER_DAY * 2), firstDay: day };
      this.stations.set(stationId, st);
    } else if (day < st.firstDay) st.firstDay = day;
    const i = (slot * this.retainDays + row) * 2;
    st.counts[i] = Math.min(MAX_COUNT, st.counts[i]! + rented);
    st.counts[i + 1] = Math.min(MAX_COUNT, st.counts[i + 1]! + returned);
    return true;
  }

  /** Splits an observed interval on slot boundaries (local time) and records it. */
  private observe(fromSec: number, toSec: number): SlotCount[] {
    const out: SlotCount[] = [];
    let t = fromSec;
    while (t < toSec) {
      const local = t + this.clock.offsetSec(t);
      const day = Math.floor(local / DAY_SEC);
      const slot = Math.floor((local - day * DAY_SEC) / SLOT_SEC);
      // End of this local slot; a DST change inside the step only shifts which slot gets the seconds.
      const end = Math.min(toSec, t + (SLOT_SEC - (local - day * DAY_SEC - slot * SLOT_SEC)));
      const sec = end - t;
      if (this.addObserved(day, slot, sec)) {
        const last = out[out.length - 1];
        if (last !== undefined && last.day === day && last.slot === slot) last.rented += sec;
        else out.push({ stationId: OBSERVED_STATION_ID, day, slot, rented: sec, returned: 0 });
      }
      t = end;
    }
    return out;
  }

  private addObserved(day: number, slot: number, sec: number): boolean {
    const row = this.claimRow(day);
    if (row < 0) return false;
    const i = row * SLOTS_PER_DAY + slot;
    // A slot lasts 600 s, 1,200 s in the hour lived twice at the autumn DST change.
    const next = Math.min(2 * SLOT_SEC, this.observedSlotSec[i]! + sec);
    this.observedDaySec[row] = this.observedDaySec[row]! + next - this.observedSlotSec[i]!;
    this.observedSlotSec[i] = next;
    return true;
  }

  /** Ring row of `day`, clearing it when it held an older day; -1 when `day` is already forgotten. */
  private claimRow(day: number): number {
    if (day < 0) return -1;
    const row = day % this.retainDays;
    const held = this.rowDay[row]!;
    if (held === day) return row;
    if (held > day) return -1;
    const from = row * SLOTS_PER_DAY;
    const stride = this.retainDays * 2;
    for (const st of this.stations.values()) {
      const counts = st.counts;
      for (let i = row * 2; i < counts.length; i += stride) {
        counts[i] = 0;
        counts[i + 1] = 0;
      }
    }
    this.observedSlotSec.fill(0, from, from + SLOTS_PER_DAY);
    this.observedDaySec[row] = 0;
    this.rowDay[row] = day;
    return row;
  }
}
