/**
 * A watched system's record in the store (id, name, feed URL, time zone) and where its time zone
 * comes from: the configuration, else the feed's system_information, else what the store
 * remembers, else Europe/Paris. Shared by `watch` and the scheduled function.
 */
import type { SystemInformation } from '../feed/model.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../storage/index.js';

export const DEFAULT_TIME_ZONE = 'Europe/Paris';

export interface WatchedSystemOptions {
  store: Store;
  system: string;
  systemName: string;
  feedUrl: string;
  /** Configured override: the feed's own time zone is then ignored. */
  timeZone: string | undefined;
  logger: Logger;
  /** Said when the feed changes its time zone while the pipeline runs (how to apply it). */
  applyHint: string;
}

export class WatchedSystem {
  private known: string | undefined;

  constructor(private readonly opts: WatchedSystemOptions) {
    this.known = opts.timeZone;
  }

  get timeZone(): string {
    return this.known ?? DEFAULT_TIME_ZONE;
  }

  /** Saves the record, with the time zone the store remembers unless one is configured. */
  async register(): Promise<void> {
    const stored = (await this.opts.store.listSystems()).find((s) => s.id === this.opts.system);
    this.known ??= stored?.timezone;
    await this.save();
  }

  /**
   * The feed's system_information: its time zone is taken unless configured. Once a pipeline runs
   * its activity slots are fixed, so a change is then only logged, with how to apply it.
   */
  async onSystemInformation(info: SystemInformation, pipelineRunning: boolean): Promise<void> {
    if (this.opts.timeZone !== undefined || info.timezone === this.known) return;
    if (pipelineRunning) {
      this.opts.logger.warn(
        { timezone: info.timezone },
        `the feed changed its time zone: ${this.opts.applyHint}`,
      );
      return;
    }
    this.known = info.timezone;
    await this.save();
  }

  private async save(): Promise<void> {
    await this.opts.store.upsertSystem({
      id: this.opts.system,
      name: this.opts.systemName,
      feedUrl: this.opts.feedUrl,
      timezone: this.timeZone,
    });
  }
}
