/**
 * vehicle_types (GBFS 2.1+): which vehicle_type_id is a mechanical bike, an e-bike, or something else.
 */
import type { BikeType, ParseResult, Rejection } from '../model.js';
import { readDataArray, readRoot, rejection } from './document.js';
import { isObject, show } from './values.js';

const FEED = 'vehicle_types';

/** Form factors that are bicycles; a cargo bicycle is still pedalled or assisted like one. */
const BICYCLE_FORM_FACTORS = new Set(['bicycle', 'cargo_bicycle']);

/**
 * GBFS propulsion_type: `human` → mechanical; `electric_assist` (pedelec) and `electric` (throttle)
 * → electric; combustion, hybrids, hydrogen and every non-bicycle (scooter, moped, car…) → other.
 */
export function bikeTypeOf(formFactor: unknown, propulsion: unknown): BikeType {
  if (typeof formFactor !== 'string' || !BICYCLE_FORM_FACTORS.has(formFactor)) return 'other';
  if (propulsion === 'human') return 'mechanical';
  if (propulsion === 'electric_assist' || propulsion === 'electric') return 'electric';
  return 'other';
}

export function parseVehicleTypes(body: unknown): ParseResult<Map<string, BikeType>> {
  const root = readRoot(body, FEED);
  if (!root.ok) return root;
  const list = readDataArray(root.root, FEED, 'vehicle_types');
  if (!list.ok) return list;

  const types = new Map<string, BikeType>();
  const rejections: Rejection[] = [];
  list.items.forEach((item: unknown, i) => {
    if (!isObject(item) || typeof item.vehicle_type_id !== 'string' || item.vehicle_type_id === '') {
      const message = `Entry ${i} of data.vehicle_types has no vehicle_type_id: ${show(item)}; its vehicles will count as "other".`;
      rejections.push(rejection(FEED, null, 'bad_shape', message));
      return;
    }
    types.set(item.vehicle_type_id, bikeTypeOf(item.form_factor, item.propulsion_type));
  });
  return { ok: true, doc: types, rejections };
}
