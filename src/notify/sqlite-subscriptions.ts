/** SQLite rows of webhook and push subscriptions, and the VAPID key pair. */
import type Database from 'better-sqlite3';
import type { StationState } from '../detection/index.js';
import type {
  NewPushSubscription,
  NewWebhook,
  PushLang,
  PushSubscriptionRecord,
  VapidKeys,
  Webhook,
} from './types.js';

interface WebhookRow {
  id: number;
  system: string;
  url: string;
  description: string | null;
  secret: string;
  station_ids: string | null;
  station_codes: string | null;
  area_lat: number | null;
  area_lon: number | null;
  area_radius_m: number | null;
  states: string | null;
  active: number;
  created_ms: number;
}

interface PushRow {
  id: number;
  system: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  station_ids: string;
  station_codes: string;
  lang: string;
  created_ms: number;
  updated_ms: number;
}

const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));

function toWebhook(r: WebhookRow): Webhook {
  return {
    id: r.id,
    system: r.system,
    url: r.url,
    description: r.description,
    secret: r.secret,
    stationIds: r.station_ids === null ? null : (JSON.parse(r.station_ids) as string[]),
    stationCodes: r.station_codes === null ? null : (JSON.parse(r.station_codes) as string[]),
    area:
      r.area_lat === null || r.area_lon === null || r.area_radius_m === null
        ? null
        : { lat: r.area_lat, lon: r.area_lon, radiusM: r.area_radius_m },
    states: r.states === null ? null : (JSON.parse(r.states) as StationState[]),
    active: r.active === 1,
    createdMs: r.created_ms,
  };
}

function toPush(r: PushRow): PushSubscriptionRecord {
  return {
    id: r.id,
    system: r.system,
    endpoint: r.endpoint,
    p256dh: r.p256dh,
    auth: r.auth,
    stationIds: JSON.parse(r.station_ids) as string[],
    stationCodes: JSON.parse(r.station_codes) as string[],
    lang: r.lang as PushLang,
    createdMs: r.created_ms,
    updatedMs: r.updated_ms,
  };
}

export class SubscriptionTables {
  constructor(private readonly db: Database.Database) {}

  vapidKeys(generate: () => VapidKeys): VapidKeys {
    const read = (): VapidKeys | null => {
      const row = this.db.prepare("SELECT value FROM notify_meta WHERE key = 'vapid'").get() as
        { value: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.value) as VapidKeys);
    };
    const found = read();
    if (found !== null) return found;
    // INSERT OR IGNORE: if another process saved a pair meanwhile, its pair wins and we read it.
    this.db
      .prepare("INSERT OR IGNORE INTO notify_meta (key, value) VALUES ('vapid', ?)")
      .run(JSON.stringify(generate()));
    return read()!;
  }

  createWebhook(w: NewWebhook, nowMs: number): Webhook {
    const info = this.db
      .prepare(
        `INSERT INTO notify_webhooks (system, url, description, secret, station_ids, station_codes,
           area_lat, area_lon, area_radius_m, states, active, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
      )
      .run(
        w.system,
        w.url,
        w.description,
        w.secret,
        json(w.stationIds),
        json(w.stationCodes),
        w.area?.lat ?? null,
        w.area?.lon ?? null,
        w.area?.radiusM ?? null,
        json(w.states),
        nowMs,
      );
    return this.getWebhook(Number(info.lastInsertRowid))!;
  }

  listWebhooks(system: string): Webhook[] {
    const rows = this.db
      .prepare('SELECT * FROM notify_webhooks WHERE system = ? AND deleted_ms IS NULL ORDER BY id')
      .all(system) as WebhookRow[];
    return rows.map(toWebhook);
  }

  getWebhook(id: number): Webhook | null {
    const row = this.db
      .prepare('SELECT * FROM notify_webhooks WHERE id = ? AND deleted_ms IS NULL')
      .get(id) as WebhookRow | undefined;
    return row === undefined ? null : toWebhook(row);
  }

  /** Soft delete: the delivery log keeps pointing at the row. Inside the caller's transaction. */
  deleteWebhook(id: number, nowMs: number): boolean {
    const changed = this.db
      .prepare('UPDATE notify_webhooks SET active = 0, deleted_ms = ? WHERE id = ? AND deleted_ms IS NULL')
      .run(nowMs, id).changes;
    return changed > 0;
  }

  /** Inside the caller's transaction, so the count and the insert see the same table. */
  upsertPush(p: NewPushSubscription, nowMs: number, maxPerSystem?: number): PushSubscriptionRecord | null {
    if (maxPerSystem !== undefined && this.pushIdOf(p.endpoint) === null) {
      const count = this.db
        .prepare('SELECT count(*) FROM notify_push_subscriptions WHERE system = ?')
        .pluck()
        .get(p.system) as number;
      if (count >= maxPerSystem) return null;
    }
    this.db
      .prepare(
        `INSERT INTO notify_push_subscriptions
           (system, endpoint, p256dh, auth, station_ids, station_codes, lang, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (endpoint) DO UPDATE SET system = excluded.system, p256dh = excluded.p256dh,
           auth = excluded.auth, station_ids = excluded.station_ids, station_codes = excluded.station_codes,
           lang = excluded.lang, updated_ms = excluded.updated_ms`,
      )
      .run(
        p.system,
        p.endpoint,
        p.p256dh,
        p.auth,
        JSON.stringify(p.stationIds),
        JSON.stringify(p.stationCodes),
        p.lang,
        nowMs,
        nowMs,
      );
    const row = this.db
      .prepare('SELECT * FROM notify_push_subscriptions WHERE endpoint = ?')
      .get(p.endpoint) as PushRow;
    return toPush(row);
  }

  getPush(id: number): PushSubscriptionRecord | null {
    const row = this.db.prepare('SELECT * FROM notify_push_subscriptions WHERE id = ?').get(id) as
      PushRow | undefined;
    return row === undefined ? null : toPush(row);
  }

  pushIdOf(endpoint: string): number | null {
    const row = this.db
      .prepare('SELECT id FROM notify_push_subscriptions WHERE endpoint = ?')
      .get(endpoint) as { id: number } | undefined;
    return row?.id ?? null;
  }

  listPush(system: string): PushSubscriptionRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM notify_push_subscriptions WHERE system = ? ORDER BY id')
      .all(system) as PushRow[];
    return rows.map(toPush);
  }

  /** Inside the caller's transaction. */
  deletePush(id: number): boolean {
    return this.db.prepare('DELETE FROM notify_push_subscriptions WHERE id = ?').run(id).changes > 0;
  }
}
