import type { SlotCount, SlotTotal, StationSlot } from '../types.js';
import { stmt, type Db, type Tx } from './context.js';
import type { PgDictionary } from './dictionary.js';
import { checkOffset } from './event-log.js';

// The increments (summed per slot first: an upsert may touch a row once per statement) and the
// consumer's offset in one statement. Sorted, so two writers lock rows in the same order.
const addActivity = stmt(
  'act_add',
  `WITH a AS (
     INSERT INTO activity (system_id, day, slot, station_id, rented, returned)
     SELECT $1, day, slot, station_id, sum(rented), sum(returned)
     FROM unnest($2::integer[], $3::smallint[], $4::integer[], $5::integer[], $6::integer[]) AS i (day, slot, station_id, rented, returned)
     GROUP BY day, slot, station_id ORDER BY day, slot, station_id
     ON CONFLICT (system_id, day, slot, station_id)
     DO UPDATE SET rented = activity.rented + excluded.rented, returned = activity.returned + excluded.returned
   )
   INSERT INTO consumer_offsets (consumer, log_offset) VALUES ($7, $8)
   ON CONFLICT (consumer) DO UPDATE SET log_offset = excluded.log_offset`,
);
const selectActivity = stmt(
  'act_select',
  'SELECT station_id, day, slot, rented, returned FROM activity WHERE system_id = $1 AND day BETWEEN $2 AND $3',
);
// One station: the key is (system, day, slot, station), so walk the (day, slot) pairs of the range
// — only the days that hold data — and look each up (~4,000 index probes for four weeks) instead
// of reading every station's rows. LATERAL … LIMIT 1 makes each lookup a probe of the primary key
// (as a join, which the planner would flatten it into, blind to the series' length, it picks a
// scan of the whole table: ~170 ms for four weeks of 1,500 stations instead of ~10 ms).
// least/greatest ignore NULL: an open end is the data's end.
const selectStationActivity = stmt(
  'act_select_station',
  `SELECT d.day, s.slot, a.rented, a.returned
   FROM generate_series(greatest($3::integer, (SELECT min(day) FROM activity WHERE system_id = $1)),
                        least($4::integer, (SELECT max(day) FROM activity WHERE system_id = $1))) AS d (day)
   CROSS JOIN generate_series(0, 143) AS s (slot)
   CROSS JOIN LATERAL (
     SELECT rented, returned FROM activity WHERE system_id = $1 AND day = d.day AND slot = s.slot AND station_id = $2
     LIMIT 1
   ) AS a
   ORDER BY d.day, s.slot`,
);

// Rows of a (system, day, slot) are adjacent in the key: a grouped index scan, ≤ 144 rows a day out.
const selectTotals = stmt(
  'act_totals',
  `SELECT day, slot, sum(rented)::integer, sum(returned)::integer FROM activity
   WHERE system_id = $1 AND day BETWEEN $2 AND $3 AND station_id <> ALL ($4::integer[])
   GROUP BY day, slot ORDER BY day, slot`,
);
const selectLastSlots = stmt(
  'act_last_slots',
  `SELECT station_id, max(day * 144 + slot) FROM activity
   WHERE system_id = $1 AND day BETWEEN $2 AND $3 AND rented + returned > 0
   GROUP BY station_id`,
);

function checkIncrement(c: SlotCount): void {
  const ok =
    Number.isSafeInteger(c.day) &&
    Number.isInteger(c.slot) &&
    c.slot >= 0 &&
    c.slot <= 143 &&
    Number.isSafeInteger(c.rented) &&
    c.rented >= 0 &&
    Number.isSafeInteger(c.returned) &&
    c.returned >= 0;
  if (!ok) {
    throw new RangeError(
      `invalid activity increment of station ${String(c.stationId)}: day ${String(c.day)}, slot ${String(c.slot)} (0..143), ` +
        `rented ${String(c.rented)}, returned ${String(c.returned)} (integers >= 0)`,
    );
  }
}

/** Activity slots: rentals / returns per station, local day and 10-minute slot. */
export class PgActivity {
  constructor(private readonly dict: PgDictionary) {}

  async commitInTx(
    tx: Tx,
    system: string,
    consumer: string,
    offset: number,
    increments: readonly SlotCount[],
  ): Promise<void> {
    if (typeof consumer !== 'string' || consumer === '')
      throw new Error(`consumer must be a non-empty string, got ${String(consumer)}`);
    checkOffset(offset);
    const systemId = await this.dict.systemId(system);
    const n = increments.length;
    const days = new Array<number>(n);
    const slots = new Array<number>(n);
    const stations = new Array<number>(n);
    const rented = new Array<number>(n);
    const returned = new Array<number>(n);
    if (n > 0) {
      const keys = new Set<string>();
      for (const c of increments) {
        checkIncrement(c);
        keys.add(c.stationId);
      }
      await this.dict.resolveStations(tx, systemId, keys);
    }
    for (let i = 0; i < n; i++) {
      const c = increments[i]!;
      days[i] = c.day;
      slots[i] = c.slot;
      stations[i] = this.dict.stationId(systemId, c.stationId);
      rented[i] = c.rented;
      returned[i] = c.returned;
    }
    await tx.run(addActivity, [systemId, days, slots, stations, rented, returned, consumer, offset]);
  }

  async load(
    db: Db,
    systemId: number,
    fromDay: number,
    toDay?: number,
    stationId?: string,
  ): Promise<SlotCount[]> {
    if (stationId !== undefined) {
      const id = await this.dict.findStationId(db, systemId, stationId);
      if (id === undefined) return [];
      const rows = await db.rows<[number, number, number, number]>(selectStationActivity, [
        systemId,
        id,
        fromDay,
        toDay ?? null,
      ]);
      return rows.map((r) => ({ stationId, day: r[0], slot: r[1], rented: r[2], returned: r[3] }));
    }
    const rows = await db.rows<[number, number, number, number, number]>(selectActivity, [
      systemId,
      fromDay,
      toDay ?? 2_147_483_647,
    ]);
    await this.dict.ensureKeys(db, new Set(rows.map((r) => r[0])));
    return rows.map((r) => ({
      stationId: this.dict.stationKey(r[0]),
      day: r[1],
      slot: r[2],
      rented: r[3],
      returned: r[4],
    }));
  }

  async totals(
    db: Db,
    systemId: number,
    fromDay: number,
    toDay: number,
    excludeStationIds: readonly string[],
  ): Promise<SlotTotal[]> {
    const excluded: number[] = [];
    for (const key of excludeStationIds) {
      const id = await this.dict.findStationId(db, systemId, key);
      if (id !== undefined) excluded.push(id);
    }
    const rows = await db.rows<[number, number, number, number]>(selectTotals, [
      systemId,
      fromDay,
      toDay,
      excluded,
    ]);
    return rows.map((r) => ({ day: r[0], slot: r[1], rented: r[2], returned: r[3] }));
  }

  async lastSlots(db: Db, systemId: number, fromDay: number, toDay: number): Promise<StationSlot[]> {
    const rows = await db.rows<[number, number]>(selectLastSlots, [systemId, fromDay, toDay]);
    await this.dict.ensureKeys(db, new Set(rows.map((r) => r[0])));
    return rows.map((r) => ({
      stationId: this.dict.stationKey(r[0]),
      day: Math.floor(r[1] / 144),
      slot: r[1] % 144,
    }));
  }
}
