import { ActivityModel } from '../activity/model.js';
import type { LoggedEvent } from '../events/index.js';
import { scanActivity } from '../storage/activity-totals.js';
import type { SlotCount, Store } from '../storage/types.js';

/**
 * Consumer `activity:<system>`: keeps the in-memory model of usual activity and persists slot
 * increments together with its offset (one atomic step), so a restart neither loses nor double
 * counts a rental.
 */
export class ActivityConsumer {
  readonly name: string;
  readonly model: ActivityModel;
  private offset = 0;

  constructor(
    private readonly store: Store,
    readonly system: string,
    timeZone: string,
  ) {
    this.name = `activity:${system}`;
    this.model = new ActivityModel({ timeZone });
  }

  get committedOffset(): number {
    return this.offset;
  }

  /** Rebuild the model from the store: the days the ring holds, ending at `nowSec`'s day. */
  async init(nowSec: number | null): Promise<void> {
    this.offset = await this.store.log.consumerOffset(this.name);
    if (nowSec === null) return;
    // Streamed, a day at a time: four weeks of a 1,500-station system are millions of rows. Loading
    // each day as an array (~200,000 objects) filled the old generation with garbage: most of
    // the watcher's peak memory at start-up. Between days the event loop breathes.
    const today = this.model.dayOf(nowSec);
    for (let day = this.model.oldestRetainedDay(today); day <= today; day++) {
      await scanActivity(this.store, this.system, day, day, (slot) => this.model.loadSlot(slot));
    }
  }

  /** Apply events in offset order; events at or below the committed offset are skipped. */
  async process(events: readonly LoggedEvent[]): Promise<void> {
    const increments: SlotCount[] = [];
    let last = this.offset;
    for (const event of events) {
      if (event.offset <= last) continue;
      last = event.offset;
      if (event.system !== this.system) continue;
      const produced = this.model.apply(event);
      for (const inc of produced) {
        // One row per station and slot: the moves of several bike types at one station in one
        // document come one after the other (one upsert each costs more than this check).
        const prev = increments[increments.length - 1];
        if (
          prev !== undefined &&
          prev.stationId === inc.stationId &&
          prev.day === inc.day &&
          prev.slot === inc.slot
        ) {
          prev.rented += inc.rented;
          prev.returned += inc.returned;
        } else increments.push(inc);
      }
    }
    if (last === this.offset) return;
    await this.store.commitActivity(this.system, this.name, last, increments);
    this.offset = last;
  }
}
