import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ByteReader, ByteWriter } from '../codec/index.js';
import type { SlotCount } from '../types.js';
import { isConditionFailed } from './connection.js';
import type { Ctx } from './context.js';
import { checkConsumer, checkOffset } from './event-log.js';
import {
  activityDayPk,
  activityPk,
  activityStationPk,
  activitySystemKey,
  CONSUMER_PK,
  consumerKey,
  expiresAt,
  fromSigned,
  num16,
  rolledKey,
  signed,
} from './keys.js';
import {
  batchGet,
  batchWrite,
  bytesOf,
  ITEM_PAYLOAD_MAX,
  queryAll,
  queryPages,
  type Item,
  type WriteRequest,
} from './requests.js';
import { StationTable } from './station-table.js';

/** Activity is what the usual-activity model reads three weeks back: kept at least four. */
const MIN_ACTIVITY_DAYS = 28;
/** Parts are only read until their day is rolled up (the next day's first commit). */
const PART_DAYS = 7;
/** A rollup catching up after a long stop visits at most this many days. */
const MAX_ROLLUP_DAYS = 400;

type Counts = Map<string, [rented: number, returned: number]>;

interface SlotGroup {
  day: number;
  slot: number;
  counts: Counts;
}

export function checkIncrement(c: SlotCount): void {
  const ok =
    Number.isSafeInteger(c.day) &&
    Number.isInteger(c.slot) &&
    c.slot >= 0 &&
    c.slot <= 143 &&
    Number.isSafeInteger(c.rented) &&
    c.rented >= 0 &&
    Number.isSafeInteger(c.returned) &&
    c.returned >= 0 &&
    typeof c.stationId === 'string' &&
    c.stationId !== '';
  if (!ok) {
    throw new RangeError(
      `invalid activity increment of station ${String(c.stationId)}: day ${String(c.day)}, slot ${String(c.slot)} (0..143), ` +
        `rented ${String(c.rented)}, returned ${String(c.returned)} (integers >= 0)`,
    );
  }
}

/** Counts packed: the item's station table, then (rented, returned) per station in table order. */
function packCounts(counts: Counts): Buffer {
  const table = new StationTable();
  const body = new ByteWriter();
  for (const [key, [rented, returned]] of counts) {
    table.add(key);
    body.uint(rented);
    body.uint(returned);
  }
  const w = new ByteWriter();
  table.write(w);
  return Buffer.concat([w.view(), body.view()]);
}

function unpackCounts(blob: Buffer): Counts {
  const r = new ByteReader(blob);
  const table = StationTable.read(r);
  const counts: Counts = new Map();
  for (const key of table.keys) counts.set(key, [r.uint(), r.uint()]);
  return counts;
}

/**
 * Slot groups packed — an intent, or a chunk of a rolled-up day: one station table for all, then
 * per group day, slot, n and n × (station number, rented, returned): ~4 bytes a cell.
 */
function packGroups(groups: readonly SlotGroup[]): Buffer {
  const table = new StationTable();
  const body = new ByteWriter();
  body.uint(groups.length);
  for (const g of groups) {
    body.int(g.day);
    body.uint(g.slot);
    body.uint(g.counts.size);
    for (const [station, [rented, returned]] of g.counts) {
      body.uint(table.add(station));
      body.uint(rented);
      body.uint(returned);
    }
  }
  const w = new ByteWriter();
  table.write(w);
  return Buffer.concat([w.view(), body.view()]);
}

function unpackGroups(blob: Buffer): SlotGroup[] {
  const r = new ByteReader(blob);
  const table = StationTable.read(r);
  const groups: SlotGroup[] = [];
  for (let n = r.uint(); n > 0; n--) {
    const day = r.int();
    const slot = r.uint();
    const counts: Counts = new Map();
    for (let m = r.uint(); m > 0; m--) counts.set(table.stationKey(r.uint()), [r.uint(), r.uint()]);
    groups.push({ day, slot, counts });
  }
  return groups;
}

/** One station's day: (slot, rented, returned) for each slot with activity. */
function packStationDay(slots: Map<number, [number, number]>): Buffer {
  const w = new ByteWriter();
  w.uint(slots.size);
  for (const [slot, [rented, returned]] of [...slots].sort((a, b) => a[0] - b[0])) {
    w.uint(slot);
    w.uint(rented);
    w.uint(returned);
  }
  return Buffer.from(w.view());
}

const partSk = (day: number, slot: number, offset: number): string =>
  `${signed(day)}#${String(slot).padStart(3, '0')}#${num16(offset)}`;
const dayFrom = (day: number): string => `${signed(day)}#`;
const dayTo = (day: number): string => `${signed(day)}#~`;

function add(into: Counts, counts: Counts): void {
  for (const [station, [rented, returned]] of counts) {
    const old = into.get(station);
    if (old === undefined) into.set(station, [rented, returned]);
    else into.set(station, [old[0] + rented, old[1] + returned]);
  }
}

/** Parts of the days not rolled up yet, read incrementally (parts only ever come after the last seen). */
interface PartsCache {
  startDay: number;
  /** Sort key prefix (day#slot#) of the newest slot seen: re-read each time, its parts deduplicated. */
  lastSlot: string;
  seenInLastSlot: Set<string>;
  slots: Map<string, SlotGroup>;
}

/**
 * Activity of a system, in three shapes:
 * - parts (A#{system}, sk day#slot#offset): one item per commit and slot touched, the live write
 *   (a document's increments, ~2 KB for Vélib' at rush hour, one PutItem);
 * - per-station days (AS#{system}#{station}, sk day): a station's 144 slots, for the API's
 *   four-week view of one station (one Query of ~30 small items);
 * - whole days (AD#{system}, sk day#chunk): every station's slots of a day, for the pipeline's
 *   model (a few items a day instead of ~1,440 parts).
 * The first commit of a new day rolls the previous day(s) up from the parts; a marker (META
 * rolled#{system}) says up to which day. Parts expire a week after their day.
 *
 * Commits are atomic by an intent: one UpdateItem of the consumer's item sets the new offset and
 * the increments (the commit point); the parts, keyed by that offset, are then put — idempotent,
 * so a process that finds the intent of a crashed commit simply puts them again. The intent stays
 * until the next commit replaces it: clearing it would cost a write as large as itself.
 */
export class DynamoActivity {
  /** Consumers (and systems) whose last intent this process has seen applied. */
  private readonly clean = new Set<string>();
  private readonly systems = new Set<string>();
  private readonly rolled = new Map<string, number>();
  private readonly caches = new Map<string, PartsCache>();

  constructor(private readonly ctx: Ctx) {}

  private get keepDays(): number {
    return this.ctx.ttlDays === 0 ? 0 : Math.max(this.ctx.ttlDays, MIN_ACTIVITY_DAYS);
  }

  async commit(
    system: string,
    consumer: string,
    offset: number,
    increments: readonly SlotCount[],
  ): Promise<void> {
    checkConsumer(consumer);
    checkOffset(offset);
    if (typeof system !== 'string' || system === '') throw new Error('system must be a non-empty string');
    const bySlot = new Map<string, SlotGroup>();
    for (const c of increments) {
      checkIncrement(c);
      const k = `${c.day}#${c.slot}`;
      let g = bySlot.get(k);
      if (g === undefined) bySlot.set(k, (g = { day: c.day, slot: c.slot, counts: new Map() }));
      add(g.counts, new Map([[c.stationId, [c.rented, c.returned]]]));
    }
    await this.finishPending(consumer);
    const key = consumerKey(consumer);
    if (bySlot.size === 0) {
      await this.ctx.doc.send(
        new UpdateCommand({
          TableName: this.ctx.table,
          Key: key,
          UpdateExpression: 'SET o = :o',
          ExpressionAttributeValues: { ':o': offset },
        }),
      );
      return;
    }
    await this.noteSystem(system);
    // In sort-key order, so that readers see the parts of one commit in that order too.
    const groups = [...bySlot.values()].sort((a, b) => a.day - b.day || a.slot - b.slot);
    const intent = packGroups(groups);
    if (intent.length > ITEM_PAYLOAD_MAX)
      throw new Error(
        `activity commit of ${consumer} holds ${intent.length} bytes of increments: commit smaller batches`,
      );
    await this.ctx.doc.send(
      new UpdateCommand({
        TableName: this.ctx.table,
        Key: key,
        UpdateExpression: 'SET o = :o, actIntent = :i, actSystem = :s',
        ExpressionAttributeValues: { ':o': offset, ':i': intent, ':s': system },
      }),
    );
    await this.putParts(system, offset, groups);
    await this.rollUpBefore(system, groups[0]!.day);
  }

  /** Put again the parts of the last intent of a consumer (once per process: a crash may have cut it). */
  private async finishPending(consumer: string): Promise<void> {
    if (this.clean.has(consumer)) return;
    const item = (
      await this.ctx.doc.send(
        new GetCommand({ TableName: this.ctx.table, Key: consumerKey(consumer), ConsistentRead: true }),
      )
    ).Item;
    if (item?.['actIntent'] !== undefined)
      await this.ensureParts(
        item['actSystem'] as string,
        item['o'] as number,
        unpackGroups(bytesOf(item['actIntent'])),
      );
    this.clean.add(consumer);
  }

  /** Before a first read of a system: finish the intents of its consumers (a crashed one may be half applied). */
  private async finishSystem(system: string): Promise<void> {
    if (this.clean.has(`system:${system}`)) return;
    const items = await queryAll(this.ctx.doc, {
      TableName: this.ctx.table,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'actSystem = :s',
      ExpressionAttributeValues: { ':pk': CONSUMER_PK, ':s': system },
      ConsistentRead: true,
    });
    for (const item of items) {
      if (this.clean.has(item['sk'] as string)) continue;
      await this.ensureParts(system, item['o'] as number, unpackGroups(bytesOf(item['actIntent'])));
    }
    this.clean.add(`system:${system}`);
  }

  /** Put the parts of an intent that are missing (reads only, when the commit was not cut short). */
  private async ensureParts(system: string, offset: number, groups: readonly SlotGroup[]): Promise<void> {
    const keys = groups.map((g) => ({ pk: activityPk(system), sk: partSk(g.day, g.slot, offset) }));
    const present = new Set(
      (await batchGet(this.ctx.doc, this.ctx.table, keys)).map((i) => i['sk'] as string),
    );
    const missing = groups.filter((_, i) => !present.has(keys[i]!.sk));
    if (missing.length > 0) await this.putParts(system, offset, missing);
  }

  private async putParts(system: string, offset: number, groups: readonly SlotGroup[]): Promise<void> {
    for (const g of groups) {
      await this.ctx.doc.send(
        new PutCommand({
          TableName: this.ctx.table,
          Item: {
            pk: activityPk(system),
            sk: partSk(g.day, g.slot, offset),
            c: packCounts(g.counts),
            expiresAt: expiresAt(this.keepDays === 0 ? 0 : PART_DAYS, (g.day + 1) * 86_400),
          },
        }),
      );
    }
  }

  /** Prune visits the activity partitions of the systems noted here. */
  private async noteSystem(system: string): Promise<void> {
    if (this.systems.has(system)) return;
    await this.ctx.doc.send(
      new PutCommand({ TableName: this.ctx.table, Item: { ...activitySystemKey(system) } }),
    );
    this.systems.add(system);
  }

  /** Last day rolled up (undefined: none yet). */
  private async rolledDay(system: string): Promise<number | undefined> {
    const item = (
      await this.ctx.doc.send(
        new GetCommand({ TableName: this.ctx.table, Key: rolledKey(system), ConsistentRead: true }),
      )
    ).Item;
    const day = item?.['day'] as number | undefined;
    if (day !== undefined) this.rolled.set(system, day);
    return day;
  }

  /** Roll up every day before `day` not rolled up yet: its parts are complete (events come in time order). */
  private async rollUpBefore(system: string, day: number): Promise<void> {
    let rolled = this.rolled.get(system) ?? (await this.rolledDay(system));
    if (rolled !== undefined && rolled >= day - 1) return;
    if (rolled === undefined) {
      // Nothing rolled yet: start at the oldest day that has parts.
      const oldest = (
        await queryAll(this.ctx.doc, {
          TableName: this.ctx.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': activityPk(system) },
          ProjectionExpression: 'sk',
          Limit: 1,
          ConsistentRead: true,
        })
      )[0];
      rolled = oldest === undefined ? day - 1 : fromSigned(oldest['sk'] as string) - 1;
    }
    for (let d = Math.max(rolled + 1, day - MAX_ROLLUP_DAYS); d < day; d++) await this.rollUp(system, d);
    await this.ctx.doc
      .send(
        new UpdateCommand({
          TableName: this.ctx.table,
          Key: rolledKey(system),
          UpdateExpression: 'SET #d = :d',
          ConditionExpression: 'attribute_not_exists(#d) OR #d < :d',
          ExpressionAttributeNames: { '#d': 'day' },
          ExpressionAttributeValues: { ':d': day - 1 },
        }),
      )
      .catch((err: unknown) => {
        if (!isConditionFailed(err)) throw err;
      });
    this.rolled.set(system, day - 1);
    this.caches.delete(system);
  }

  private async rollUp(system: string, day: number): Promise<void> {
    const slots = await this.readParts(system, day, day);
    if (slots.size === 0) return;
    const byStation = new Map<string, Map<number, [number, number]>>();
    for (const g of slots.values()) {
      for (const [station, counts] of g.counts) {
        let m = byStation.get(station);
        if (m === undefined) byStation.set(station, (m = new Map<number, [number, number]>()));
        m.set(g.slot, counts);
      }
    }
    const exp = expiresAt(this.keepDays, (day + 1) * 86_400);
    const writes: WriteRequest[] = [];
    for (const [station, m] of byStation) {
      writes.push({
        PutRequest: {
          Item: {
            pk: activityStationPk(system, station),
            sk: signed(day),
            c: packStationDay(m),
            expiresAt: exp,
          },
        },
      });
    }
    // The whole day in chunks of whole slots, each below the item limit.
    let chunk: SlotGroup[] = [];
    let size = 0;
    let n = 0;
    const flush = (): void => {
      if (chunk.length === 0) return;
      writes.push({
        PutRequest: {
          Item: {
            pk: activityDayPk(system),
            sk: `${signed(day)}#${String(n++).padStart(3, '0')}`,
            day,
            g: packGroups(chunk),
            expiresAt: exp,
          },
        },
      });
      chunk = [];
      size = 0;
      inChunk.clear();
    };
    // A bound of the packed size: 12 bytes a cell (~4 in practice), a station's key once a chunk.
    const inChunk = new Set<string>();
    for (const g of [...slots.values()].sort((a, b) => a.slot - b.slot)) {
      let bytes = 16 + g.counts.size * 12;
      for (const station of g.counts.keys())
        if (!inChunk.has(station)) bytes += Buffer.byteLength(station) + 2;
      if (size + bytes > ITEM_PAYLOAD_MAX) flush();
      for (const station of g.counts.keys()) inChunk.add(station);
      chunk.push(g);
      size += bytes;
    }
    flush();
    await batchWrite(this.ctx.doc, this.ctx.table, writes);
  }

  /** Parts of [fromDay, toDay], summed per slot. */
  private async readParts(system: string, fromDay: number, toDay: number): Promise<Map<string, SlotGroup>> {
    const slots = new Map<string, SlotGroup>();
    await queryPages(
      this.ctx.doc,
      {
        TableName: this.ctx.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': activityPk(system),
          ':from': dayFrom(fromDay),
          ':to': dayTo(toDay),
        },
        ConsistentRead: true,
      },
      (items) => {
        for (const item of items) addPart(slots, item);
      },
    );
    return slots;
  }

  /** Parts of the days after the last rolled up, kept in memory and brought up to date with a Query from the newest slot seen. */
  private async recentParts(system: string, startDay: number): Promise<Map<string, SlotGroup>> {
    let cache = this.caches.get(system);
    if (cache === undefined || cache.startDay !== startDay) {
      cache = { startDay, lastSlot: dayFrom(startDay), seenInLastSlot: new Set(), slots: new Map() };
      this.caches.set(system, cache);
    }
    const c = cache;
    await queryPages(
      this.ctx.doc,
      {
        TableName: this.ctx.table,
        KeyConditionExpression: 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: { ':pk': activityPk(system), ':from': c.lastSlot },
        ConsistentRead: true,
      },
      (items) => {
        for (const item of items) {
          const sk = item['sk'] as string;
          const slotPrefix = sk.slice(0, sk.lastIndexOf('#') + 1);
          if (slotPrefix !== c.lastSlot) {
            c.lastSlot = slotPrefix;
            c.seenInLastSlot = new Set();
          }
          if (c.seenInLastSlot.has(sk)) continue;
          c.seenInLastSlot.add(sk);
          addPart(c.slots, item);
        }
      },
    );
    return c.slots;
  }

  async load(system: string, fromDay: number, toDay?: number, stationId?: string): Promise<SlotCount[]> {
    if (!Number.isSafeInteger(fromDay) || (toDay !== undefined && !Number.isSafeInteger(toDay)))
      throw new RangeError(`days must be integers, got ${fromDay}…${String(toDay)}`);
    const to = toDay ?? Number.MAX_SAFE_INTEGER;
    if (to < fromDay) return [];
    await this.finishSystem(system);
    const rolled = (await this.rolledDay(system)) ?? Number.MIN_SAFE_INTEGER;
    const out: SlotCount[] = [];
    if (fromDay <= rolled) {
      const until = Math.min(to, rolled);
      if (stationId !== undefined) {
        for (const item of await queryAll(this.ctx.doc, {
          TableName: this.ctx.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': activityStationPk(system, stationId),
            ':from': signed(fromDay),
            ':to': signed(until),
          },
          ConsistentRead: true,
        })) {
          const day = fromSigned(item['sk'] as string);
          const r = new ByteReader(bytesOf(item['c']));
          for (let n = r.uint(); n > 0; n--)
            out.push({ stationId, day, slot: r.uint(), rented: r.uint(), returned: r.uint() });
        }
      } else {
        for (const item of await queryAll(this.ctx.doc, {
          TableName: this.ctx.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': activityDayPk(system),
            ':from': dayFrom(fromDay),
            ':to': dayTo(until),
          },
          ConsistentRead: true,
        })) {
          for (const g of unpackGroups(bytesOf(item['g']))) out.push(...rowsOf(g));
        }
      }
    }
    if (to > rolled) {
      const from = Math.max(fromDay, rolled + 1);
      // The days after the last rollup (normally today): from memory, brought up to date.
      const slots =
        rolled === Number.MIN_SAFE_INTEGER
          ? await this.readParts(system, from, to)
          : await this.recentParts(system, rolled + 1);
      for (const g of slots.values()) {
        if (g.day < from || g.day > to) continue;
        out.push(...rowsOf(g, stationId));
      }
    }
    return out;
  }

  /**
   * Drop the activity of days before `beforeDay`: parts, whole days, and the per-station days
   * (their keys are the stations of the whole-day items: no Query per station). Returns the
   * cells (station × day × slot) dropped, as the SQL stores count rows.
   */
  async prune(system: string, beforeDay: number): Promise<number> {
    const deletes: WriteRequest[] = [];
    let cells = 0;
    const parts = await queryAll(this.ctx.doc, {
      TableName: this.ctx.table,
      KeyConditionExpression: 'pk = :pk AND sk < :cut',
      ExpressionAttributeValues: { ':pk': activityPk(system), ':cut': dayFrom(beforeDay) },
      ConsistentRead: true,
    });
    const partSlots = new Map<string, SlotGroup>();
    for (const item of parts) {
      addPart(partSlots, item);
      deletes.push({ DeleteRequest: { Key: { pk: item['pk'] as string, sk: item['sk'] as string } } });
    }
    const days = await queryAll(this.ctx.doc, {
      TableName: this.ctx.table,
      KeyConditionExpression: 'pk = :pk AND sk < :cut',
      ExpressionAttributeValues: { ':pk': activityDayPk(system), ':cut': dayFrom(beforeDay) },
      ConsistentRead: true,
    });
    const rolledCells = new Set<string>();
    for (const item of days) {
      const day = item['day'] as number;
      const stations = new Set<string>();
      for (const g of unpackGroups(bytesOf(item['g']))) {
        for (const station of g.counts.keys()) {
          stations.add(station);
          rolledCells.add(`${station}#${day}#${g.slot}`);
        }
      }
      for (const station of stations)
        deletes.push({ DeleteRequest: { Key: { pk: activityStationPk(system, station), sk: signed(day) } } });
      deletes.push({ DeleteRequest: { Key: { pk: item['pk'] as string, sk: item['sk'] as string } } });
    }
    // A day both rolled up and still in parts (parts expire later) counts once.
    for (const g of partSlots.values())
      for (const station of g.counts.keys()) rolledCells.add(`${station}#${g.day}#${g.slot}`);
    cells = rolledCells.size;
    await batchWrite(this.ctx.doc, this.ctx.table, deletes);
    this.caches.delete(system);
    return cells;
  }
}

function addPart(slots: Map<string, SlotGroup>, item: Item): void {
  const sk = item['sk'] as string;
  const day = fromSigned(sk);
  const slot = Number(sk.slice(18, 21));
  const k = `${day}#${slot}`;
  let g = slots.get(k);
  if (g === undefined) slots.set(k, (g = { day, slot, counts: new Map() }));
  add(g.counts, unpackCounts(bytesOf(item['c'])));
}

function rowsOf(g: SlotGroup, stationId?: string): SlotCount[] {
  const out: SlotCount[] = [];
  for (const [station, [rented, returned]] of g.counts) {
    if (stationId !== undefined && station !== stationId) continue;
    out.push({ stationId: station, day: g.day, slot: g.slot, rented, returned });
  }
  return out;
}
