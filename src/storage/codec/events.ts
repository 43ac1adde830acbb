import type { BikeType, StationInfo } from '../../feed/model.js';
import type { CountsAfter, EventType, FeedEvent, LoggedEvent, StatusFlag } from '../../events/types.js';
import type { ByteReader, ByteWriter } from './bytes.js';

/**
 * Events ⇄ the packed bytes of an event batch (all events of one system at one document time).
 * Each event: kind (u8) = type code × 4 + sub-key (bike type / status flag), station (dictionary
 * id, 0 for none), then its values as varints:
 *
 * | type                 | values                                                        |
 * | snapshot             | stations, intervalSec?                                        |
 * | rented / returned    | count, counts after (mechanical, electric, other, docks,      |
 * |                      | bikes disabled, docks disabled)                               |
 * | availability_changed | counts after                                                  |
 * | station_added        | flags (bit 0 installed, 1 renting, 2 returning), info JSON?,  |
 * |                      | counts after                                                  |
 * | station_removed      | –                                                             |
 * | status_changed       | from + 2 × to, counts after                                   |
 * | capacity_changed     | from?, to?                                                    |
 * | feed_gap             | fromSec                                                       |
 * | feed_resumed         | gapSec                                                        |
 * (`?` = nullable.) A rented event takes ~10 bytes. Stored codes: never renumber, only append.
 */
const TYPE_BY_CODE: readonly EventType[] = [
  'snapshot',
  'rented',
  'returned',
  'availability_changed',
  'station_added',
  'station_removed',
  'status_changed',
  'capacity_changed',
  'feed_gap',
  'feed_resumed',
];
const CODE_BY_TYPE = new Map<string, number>(TYPE_BY_CODE.map((t, i) => [t, i]));
const BIKE_BY_CODE: readonly BikeType[] = ['mechanical', 'electric', 'other'];
const FLAG_BY_CODE: readonly StatusFlag[] = ['installed', 'renting', 'returning'];
/** Beyond this, zigzag doubling would leave the exact range of doubles. */
const MAX_ABS = 2 ** 50;

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

function bad(e: FeedEvent, what: string): never {
  const station = 'stationId' in e ? ` station ${String(e.stationId)}` : '';
  throw new InvalidEventError(`invalid ${String(e.type)} event at ${String(e.timeSec)}${station}: ${what}`);
}

function int(e: FeedEvent, v: unknown, what: string): number {
  if (!Number.isInteger(v) || Math.abs(v as number) > MAX_ABS)
    bad(e, `${what} must be an integer, got ${String(v)}`);
  return v as number;
}

function intOrNull(e: FeedEvent, v: unknown, what: string): number | null {
  return v === null ? null : int(e, v, what);
}

function bit(e: FeedEvent, v: unknown, what: string): number {
  if (typeof v !== 'boolean') bad(e, `${what} must be a boolean, got ${String(v)}`);
  return v ? 1 : 0;
}

function writeAfter(e: FeedEvent, a: CountsAfter | undefined, w: ByteWriter): void {
  if (a === undefined || a === null || typeof a !== 'object' || a.bikes === undefined || a.bikes === null) {
    bad(e, 'counts after are missing');
  }
  w.int(int(e, a.bikes.mechanical, 'bikes.mechanical'));
  w.int(int(e, a.bikes.electric, 'bikes.electric'));
  w.int(int(e, a.bikes.other, 'bikes.other'));
  w.int(int(e, a.docksAvailable, 'docksAvailable'));
  w.int(int(e, a.bikesDisabled, 'bikesDisabled'));
  w.int(int(e, a.docksDisabled, 'docksDisabled'));
}

/** Type code and sub-key of an event, validated; throws InvalidEventError. */
export function kindOf(e: FeedEvent): number {
  const code = CODE_BY_TYPE.get(e.type);
  if (code === undefined) bad(e, 'unknown event type');
  let sub = 0;
  if (e.type === 'rented' || e.type === 'returned') {
    sub = BIKE_BY_CODE.indexOf(e.bikeType);
    if (sub < 0) bad(e, `unknown bike type ${String(e.bikeType)}`);
  } else if (e.type === 'status_changed') {
    sub = FLAG_BY_CODE.indexOf(e.flag);
    if (sub < 0) bad(e, `unknown status flag ${String(e.flag)}`);
  }
  return code * 4 + sub;
}

/** Write one event (its kind from kindOf, its station already resolved to a dictionary id). */
export function encodeEvent(e: FeedEvent, kind: number, stationId: number, w: ByteWriter): void {
  w.u8(kind);
  w.uint(stationId);
  switch (e.type) {
    case 'rented':
    case 'returned':
      w.int(int(e, e.count, 'count'));
      writeAfter(e, e.after, w);
      return;
    case 'availability_changed':
      writeAfter(e, e.after, w);
      return;
    case 'status_changed':
      w.uint(bit(e, e.from, 'from') + 2 * bit(e, e.to, 'to'));
      writeAfter(e, e.after, w);
      return;
    case 'snapshot':
      w.int(int(e, e.stations, 'stations'));
      w.nullableInt(intOrNull(e, e.intervalSec, 'intervalSec'));
      return;
    case 'station_added': {
      const f = e.flags;
      if (f === undefined || f === null) bad(e, 'flags are missing');
      w.uint(
        bit(e, f.installed, 'flags.installed') +
          2 * bit(e, f.renting, 'flags.renting') +
          4 * bit(e, f.returning, 'flags.returning'),
      );
      w.nullableString(e.info === null ? null : JSON.stringify(e.info));
      writeAfter(e, e.after, w);
      return;
    }
    case 'station_removed':
      return;
    case 'capacity_changed':
      w.nullableInt(intOrNull(e, e.from, 'from'));
      w.nullableInt(intOrNull(e, e.to, 'to'));
      return;
    case 'feed_gap':
      w.int(int(e, e.fromSec, 'fromSec'));
      return;
    case 'feed_resumed':
      w.int(int(e, e.gapSec, 'gapSec'));
      return;
  }
}

function readAfter(r: ByteReader): CountsAfter {
  const mechanical = r.int();
  const electric = r.int();
  const other = r.int();
  return {
    bikes: { mechanical, electric, other },
    docksAvailable: r.int(),
    bikesDisabled: r.int(),
    docksDisabled: r.int(),
  };
}

/** Set by decodeEvent: the dictionary key of the event just read (station id × 64 + kind). */
export const decoded = { key: 0 };

/** Read the next event of a batch; `stationKey` maps a dictionary id to the feed's station id. */
export function decodeEvent(
  r: ByteReader,
  system: string,
  timeSec: number,
  offset: number,
  stationKey: (id: number) => string,
): LoggedEvent {
  const kind = r.u8();
  const station = r.uint();
  decoded.key = station * 64 + kind;
  const stationId = station === 0 ? '' : stationKey(station);
  const type = TYPE_BY_CODE[kind >> 2];
  const sub = kind & 3;
  switch (type) {
    case 'rented':
    case 'returned': {
      const count = r.int();
      return {
        system,
        timeSec,
        stationId,
        type,
        bikeType: BIKE_BY_CODE[sub]!,
        count,
        after: readAfter(r),
        offset,
      };
    }
    case 'availability_changed':
      return { system, timeSec, stationId, type, after: readAfter(r), offset };
    case 'status_changed': {
      const bits = r.uint();
      const flag = FLAG_BY_CODE[sub]!;
      return {
        system,
        timeSec,
        stationId,
        type,
        flag,
        from: (bits & 1) !== 0,
        to: (bits & 2) !== 0,
        after: readAfter(r),
        offset,
      };
    }
    case 'snapshot': {
      const stations = r.int();
      return { system, timeSec, type, stations, intervalSec: r.nullableInt(), offset };
    }
    case 'station_added': {
      const f = r.uint();
      const flags = { installed: (f & 1) !== 0, renting: (f & 2) !== 0, returning: (f & 4) !== 0 };
      const json = r.nullableString();
      const info = json === null ? null : (JSON.parse(json) as StationInfo);
      return { system, timeSec, stationId, type, flags, info, after: readAfter(r), offset };
    }
    case 'station_removed':
      return { system, timeSec, type, stationId, offset };
    case 'capacity_changed': {
      const from = r.nullableInt();
      return { system, timeSec, type, stationId, from, to: r.nullableInt(), offset };
    }
    case 'feed_gap':
      return { system, timeSec, type, fromSec: r.int(), offset };
    case 'feed_resumed':
      return { system, timeSec, type, gapSec: r.int(), offset };
    default:
      throw new Error(
        `event at offset ${offset} has an unknown kind ${kind}: database written by a newer dockwatch?`,
      );
  }
}

/**
 * The event with its offset, as a literal of the same shape decodeEvent builds. Not `{ ...e, offset }`:
 * V8 builds a spread-plus-one-property object on a slow path (~1.5 µs against ~0.03 µs measured),
 * which alone cost more than the whole SQLite write of a document's events.
 */
export function withOffset(e: FeedEvent, offset: number): LoggedEvent {
  const { system, timeSec } = e;
  switch (e.type) {
    case 'rented':
    case 'returned':
      return {
        system,
        timeSec,
        stationId: e.stationId,
        type: e.type,
        bikeType: e.bikeType,
        count: e.count,
        after: e.after,
        offset,
      };
    case 'availability_changed':
      return { system, timeSec, stationId: e.stationId, type: e.type, after: e.after, offset };
    case 'status_changed':
      return {
        system,
        timeSec,
        stationId: e.stationId,
        type: e.type,
        flag: e.flag,
        from: e.from,
        to: e.to,
        after: e.after,
        offset,
      };
    case 'snapshot':
      return { system, timeSec, type: e.type, stations: e.stations, intervalSec: e.intervalSec, offset };
    case 'station_added':
      return {
        system,
        timeSec,
        stationId: e.stationId,
        type: e.type,
        flags: e.flags,
        info: e.info,
        after: e.after,
        offset,
      };
    case 'station_removed':
      return { system, timeSec, type: e.type, stationId: e.stationId, offset };
    case 'capacity_changed':
      return { system, timeSec, type: e.type, stationId: e.stationId, from: e.from, to: e.to, offset };
    case 'feed_gap':
      return { system, timeSec, type: e.type, fromSec: e.fromSec, offset };
    case 'feed_resumed':
      return { system, timeSec, type: e.type, gapSec: e.gapSec, offset };
  }
}
