import { ActivityModel } from '../activity/model.js';
import type { LoggedEvent } from '../events/index.js';
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
    // A day at a time: four weeks of a 1,500-station system are millions of rows, and the peak
    // memory of a restart must stay that of one day.
    const today = this.model.dayOf(nowSec);
    for (let day = this.model.oldestRetainedDay(today); day <= today; day++) {
      this.model.load(await this.store.loadActivity(this.system, day, day));
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
      for (const inc of produced) increments.push(inc);
    }
    if (last === this.offset) return;
    await this.store.commitActivity(this.system, this.name, last, increments);
    this.offset = last;
  }
}
