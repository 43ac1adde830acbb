/**
 * One call to run notifications next to a pipeline: the SQLite notification store on the same
 * database file, the notifier loop, and the service the API routes use.
 */
import type { Logger } from '../log/index.js';
import type { Store } from '../storage/index.js';
import { loadNotifyConfig, type NotifyConfig } from './config.js';
import { Notifier, type WakeSource } from './notifier.js';
import { NotifyService } from './service.js';
import { openSqliteNotifyStore } from './sqlite-store.js';
import type { NotifyStore } from './types.js';

export interface NotificationsOptions {
  /** SQLite file of the notification tables: normally the pipeline store's own file. */
  database: string;
  store: Store;
  system: string;
  timeZone: string;
  /** Default: loadNotifyConfig() from the DOCKWATCH_* environment. */
  config?: NotifyConfig;
  logger?: Logger;
  live?: WakeSource;
  tickMs?: number;
  /** The store's retention (--retention-days): notification rows keep it unless DOCKWATCH_NOTIFY_RETENTION_DAYS is set. */
  retentionDays?: number;
}

export interface Notifications {
  notifyStore: NotifyStore;
  notifier: Notifier;
  service: NotifyService;
  /** Stops the loop (the step in progress finishes) and closes the notification store. */
  close(): Promise<void>;
}

export async function openNotifications(opts: NotificationsOptions): Promise<Notifications> {
  const config = opts.config ?? loadNotifyConfig();
  const notifyStore = await openSqliteNotifyStore(opts.database);
  try {
    const notifier = await Notifier.open({
      system: opts.system,
      timeZone: opts.timeZone,
      store: opts.store,
      notifyStore,
      config,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.live ? { live: opts.live } : {}),
      ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
      ...(opts.retentionDays !== undefined ? { defaultRetentionDays: opts.retentionDays } : {}),
    });
    const service = new NotifyService({
      system: opts.system,
      notifyStore,
      config,
      vapidPublicKey: notifier.vapidPublicKey,
    });
    if (config.adminToken === undefined) {
      opts.logger?.info('notify: DOCKWATCH_ADMIN_TOKEN is not set, webhook management is disabled');
    }
    return {
      notifyStore,
      notifier,
      service,
      close: async () => {
        await notifier.stop();
        await notifyStore.close();
      },
    };
  } catch (err) {
    await notifyStore.close();
    throw err;
  }
}
