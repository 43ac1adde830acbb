/**
 * What faults the simulator can inject, how they are written (JSON for the control endpoint,
 * a compact `kind:key=value,…` form for the command line) and how they are validated.
 *
 * Station faults change what happens at a station while its feed flags stay "OK" — the cases the
 * detectors must find from behaviour alone:
 * - `locked`: nothing moves, counts frozen;
 * - `rent_only_lock`: the renting side is locked: no rentals, returns still happen (bikes only rise);
 * - `return_only_lock`: the returning side is locked: no returns, rentals still happen (bikes only fall);
 * - `stuck_bikes`: `count` bikes of one type stay in the count but can never be rented.
 * Feed faults change what the HTTP server answers: `outage` (503 or connection reset),
 * `malformed` (garbage, truncated JSON or valid JSON of the wrong shape, for `requests` responses),
 * `frozen_timestamp` (last_updated stops while the data keeps changing).
 * Times are simulated POSIX seconds; a fault without duration lasts until cleared.
 */
import { z } from 'zod';

export const SIM_FEEDS = [
  'gbfs',
  'system_information',
  'station_information',
  'station_status',
  'vehicle_types',
] as const;
export type SimFeed = (typeof SIM_FEEDS)[number];

const timing = {
  /** Absolute simulated start; default: now. */
  startSec: z.number().int().min(0).optional(),
  /** Start relative to now (or to the simulation start, for faults given at start-up). */
  startInSec: z.number().min(0).optional(),
  durationSec: z.number().positive().optional(),
};
const station = { stationId: z.union([z.string().min(1), z.number().int()]).transform(String) };
const feeds = z.array(z.enum(SIM_FEEDS)).min(1).optional();

export const faultSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('locked'), ...station, ...timing }),
  z.strictObject({ kind: z.literal('rent_only_lock'), ...station, ...timing }),
  z.strictObject({ kind: z.literal('return_only_lock'), ...station, ...timing }),
  z.strictObject({
    kind: z.literal('stuck_bikes'),
    ...station,
    count: z.number().int().positive(),
    bikeType: z.enum(['mechanical', 'electric']).optional(),
    ...timing,
  }),
  z.strictObject({ kind: z.literal('outage'), mode: z.enum(['http_503', 'reset']).optional(), ...timing }),
  z.strictObject({
    kind: z.literal('malformed'),
    mode: z.enum(['garbage', 'truncated', 'wrong_shape', 'mixed']).optional(),
    /** Number of malformed responses to serve; default 1. */
    requests: z.number().int().positive().optional(),
    /** Default: station_status only. */
    feeds,
    ...timing,
  }),
  z.strictObject({ kind: z.literal('frozen_timestamp'), feeds, ...timing }),
]);

export type FaultSpec = z.output<typeof faultSpecSchema>;
export type FaultSpecInput = z.input<typeof faultSpecSchema>;
export type FaultKind = FaultSpec['kind'];

export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

/** Validates a fault from JSON; throws FaultSpecError with a readable message. */
export function validateFaultSpec(input: unknown): FaultSpec {
  const parsed = faultSpecSchema.safeParse(input);
  if (!parsed.success)
    throw new FaultSpecError(`invalid fault: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return parsed.data;
}

/** "90", "90s", "15m", "2h", "1.5d" → seconds. */
export function parseDurationSec(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new FaultSpecError(`invalid duration "${text}" (use e.g. 90s, 15m, 2h, 1d)`);
  const unit = m[2] === 'd' ? 86400 : m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  return Number(m[1]) * unit;
}

const KEY_ALIASES: Record<string, string> = {
  station: 'stationId',
  stationid: 'stationId',
  k: 'count',
  count: 'count',
  type: 'bikeType',
  biketype: 'bikeType',
  mode: 'mode',
  requests: 'requests',
  n: 'requests',
  feeds: 'feeds',
  feed: 'feeds',
  start: 'start',
  duration: 'durationSec',
  for: 'durationSec',
};

/**
 * A fault from a command-line flag: JSON (`{"kind":"locked",…}`) or
 * `kind:key=value,…`, e.g. `locked:station=16107,start=+2h,duration=6h`,
 * `stuck_bikes:station=16107,k=3,type=electric`, `outage:mode=reset,start=1h,for=10m`,
 * `malformed:mode=truncated,n=5,feeds=station_status+station_information`.
 * `start` is relative to the simulation start (`+2h` or `2h`), or absolute (ISO 8601 or POSIX seconds).
 */
export function parseFaultFlag(text: string): FaultSpec {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (err) {
      throw new FaultSpecError(`fault flag is not valid JSON: ${(err as Error).message}`);
    }
    return validateFaultSpec(json);
  }
  const colon = trimmed.indexOf(':');
  const out: Record<string, unknown> = { kind: colon < 0 ? trimmed : trimmed.slice(0, colon) };
  const rest = colon < 0 ? '' : trimmed.slice(colon + 1);
  for (const pair of rest.split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new FaultSpecError(`fault flag "${text}": "${pair}" is not key=value`);
    const rawKey = pair.slice(0, eq).trim().toLowerCase();
    const value = pair.slice(eq + 1).trim();
    const key = KEY_ALIASES[rawKey];
    if (key === undefined) throw new FaultSpecError(`fault flag "${text}": unknown key "${rawKey}"`);
    if (key === 'count' || key === 'requests') out[key] = Number(value);
    else if (key === 'feeds') out[key] = value.split('+');
    else if (key === 'durationSec') out[key] = parseDurationSec(value);
    else if (key === 'start') Object.assign(out, parseStart(value));
    else out[key] = value;
  }
  return validateFaultSpec(out);
}

function parseStart(value: string): { startSec: number } | { startInSec: number } {
  if (/^\d{9,}$/.test(value)) return { startSec: Number(value) };
  if (/^\d{4}-\d\d-\d\d/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new FaultSpecError(`invalid start date "${value}"`);
    return { startSec: Math.floor(ms / 1000) };
  }
  return { startInSec: parseDurationSec(value.replace(/^\+/, '')) };
}
