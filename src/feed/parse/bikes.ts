/**
 * Available bikes split by type, from whichever breakdown the feed offers:
 * - GBFS 2.1+ / 3.x `vehicle_types_available: [{vehicle_type_id, count}]`, typed via vehicle_types;
 * - Vélib' `num_bikes_available_types: [{"mechanical": 1}, {"ebike": 4}]` (or the same as one object);
 * - Lyft (Bay Wheels) 1.x `num_ebikes_available`: mechanical = num_bikes_available − ebikes;
 * - nothing: every bike is of unknown type (`other`).
 */
import type { BikeCounts, BikeType, RejectReason } from '../model.js';
import type { Json } from './document.js';
import { NEGATIVE, isObject, readCount, show } from './values.js';

export interface StationProblem {
  reason: RejectReason;
  message: string;
}

/** Vélib' type keys (`mechanical`, `ebike`) and the obvious synonyms; anything else is `other`. */
export function bikeTypeOfKey(key: string): BikeType {
  switch (key) {
    case 'mechanical':
      return 'mechanical';
    case 'ebike':
    case 'electric':
    case 'electric_assist':
      return 'electric';
    default:
      return 'other';
  }
}

function add(into: BikeCounts, type: BikeType, count: number): void {
  switch (type) {
    case 'mechanical':
      into.mechanical += count;
      break;
    case 'electric':
      into.electric += count;
      break;
    default:
      into.other += count;
  }
}

/** A per-type count, or the problem with it. */
function typeCount(id: string, field: string, key: string, v: unknown): number | StationProblem {
  const c = readCount(v);
  if (c >= 0) return c;
  return c === NEGATIVE
    ? {
        reason: 'negative_count',
        message: `Station ${id} reports ${show(v)} bikes of type "${key}" in ${field}.`,
      }
    : {
        reason: 'bad_station',
        message: `Station ${id} has a non-integer count ${show(v)} for type "${key}" in ${field}.`,
      };
}

/**
 * Fills `into` (all three fields) for a station whose total available is `total`. Returns null, or
 * the reason to drop the station.
 */
export function fillBikeCounts(
  id: string,
  raw: Json,
  total: number,
  vehicleTypes: ReadonlyMap<string, BikeType> | undefined,
  into: BikeCounts,
): StationProblem | null {
  into.mechanical = 0;
  into.electric = 0;
  into.other = 0;

  const available = raw.vehicle_types_available;
  if (available !== undefined && available !== null) {
    if (!Array.isArray(available)) return badBreakdown(id, 'vehicle_types_available', available);
    for (let i = 0; i < available.length; i++) {
      const item: unknown = available[i];
      if (!isObject(item) || typeof item.vehicle_type_id !== 'string') {
        return badBreakdown(id, 'vehicle_types_available', item);
      }
      const typeId = item.vehicle_type_id;
      const c = typeCount(id, 'vehicle_types_available', typeId, item.count);
      if (typeof c !== 'number') return c;
      // A type missing from vehicle_types.json is still a vehicle: counted, as `other`.
      add(into, vehicleTypes?.get(typeId) ?? 'other', c);
    }
    return reconcile(id, 'vehicle_types_available', total, into);
  }

  const types = raw.num_bikes_available_types;
  if (types !== undefined && types !== null) {
    if (Array.isArray(types)) {
      for (let i = 0; i < types.length; i++) {
        const item: unknown = types[i];
        if (!isObject(item)) return badBreakdown(id, 'num_bikes_available_types', item);
        const problem = addKeyedCounts(id, item, into);
        if (problem !== null) return problem;
      }
    } else if (isObject(types)) {
      const problem = addKeyedCounts(id, types, into);
      if (problem !== null) return problem;
    } else {
      return badBreakdown(id, 'num_bikes_available_types', types);
    }
    return reconcile(id, 'num_bikes_available_types', total, into);
  }

  const ebikes = raw.num_ebikes_available;
  if (ebikes !== undefined && ebikes !== null) {
    const c = typeCount(id, 'num_ebikes_available', 'ebike', ebikes);
    if (typeof c !== 'number') return c;
    if (c > total) {
      return {
        reason: 'impossible_count',
        message: `Station ${id} reports ${c} e-bikes available but only ${total} bikes available in all.`,
      };
    }
    into.electric = c;
    into.mechanical = total - c;
    return null;
  }

  into.other = total;
  return null;
}

function addKeyedCounts(id: string, counts: Json, into: BikeCounts): StationProblem | null {
  for (const key in counts) {
    const c = typeCount(id, 'num_bikes_available_types', key, counts[key]);
    if (typeof c !== 'number') return c;
    add(into, bikeTypeOfKey(key), c);
  }
  return null;
}

/**
 * GBFS (2.1 to 3.1) says the per-type counts SHOULD add up to the total and that a type absent from
 * the station may be omitted. More bikes by type than in total cannot be true: the station is dropped.
 * Fewer is tolerated: the remainder are bikes of an unlisted type, kept as `other` so that the
 * counts always add up to num_bikes_available.
 */
function reconcile(id: string, field: string, total: number, into: BikeCounts): StationProblem | null {
  const sum = into.mechanical + into.electric + into.other;
  if (sum > total) {
    return {
      reason: 'impossible_count',
      message: `Station ${id} lists ${sum} bikes by type in ${field}, more than the ${total} bikes available.`,
    };
  }
  into.other += total - sum;
  return null;
}

function badBreakdown(id: string, field: string, v: unknown): StationProblem {
  return { reason: 'bad_station', message: `Station ${id} has a malformed ${field} entry: ${show(v)}.` };
}
