import { z } from 'zod';
import type { FeedEvent, LoggedEvent } from '../events/index.js';
import { InvalidEventError } from '../storage/index.js';

/**
 * Events on the wire: UTF-8 JSON of the FeedEvent (no offset: the stream sequence is the offset).
 * Validated before publishing, so that a bad batch is refused whole, as the SQLite log does, and a
 * reader never meets a message it cannot use.
 */
const count = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31);
const sec = z
  .number()
  .int()
  .min(0)
  .max(2 ** 40);
const system = z.string().regex(/^[A-Za-z0-9_-]{1,63}$/);
const stationId = z.string().min(1).max(200);
const after = z.strictObject({
  bikes: z.strictObject({ mechanical: count, electric: count, other: count }),
  docksAvailable: count,
  bikesDisabled: count,
  docksDisabled: count,
});
const base = { system, timeSec: sec };
const station = { ...base, stationId, after };
const flag = z.enum(['installed', 'renting', 'returning']);
const info = z.strictObject({
  stationId,
  code: z.string(),
  name: z.string(),
  lat: z.number(),
  lon: z.number(),
  capacity: count.nullable(),
});

const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...station,
    type: z.enum(['rented', 'returned']),
    bikeType: z.enum(['mechanical', 'electric', 'other']),
    count: count.min(1),
  }),
  z.strictObject({ ...station, type: z.literal('availability_changed') }),
  z.strictObject({
    ...station,
    type: z.literal('station_added'),
    flags: z.strictObject({ installed: z.boolean(), renting: z.boolean(), returning: z.boolean() }),
    info: info.nullable(),
  }),
  z.strictObject({ ...base, type: z.literal('station_removed'), stationId }),
  z.strictObject({ ...station, type: z.literal('status_changed'), flag, from: z.boolean(), to: z.boolean() }),
  z.strictObject({
    ...base,
    type: z.literal('capacity_changed'),
    stationId,
    from: count.nullable(),
    to: count.nullable(),
  }),
  z.strictObject({ ...base, type: z.literal('snapshot'), stations: count, intervalSec: sec.nullable() }),
  z.strictObject({ ...base, type: z.literal('feed_gap'), fromSec: sec }),
  z.strictObject({ ...base, type: z.literal('feed_resumed'), gapSec: sec }),
]);

/** Throws InvalidEventError naming the first bad event and field. */
export function validateEvent(e: FeedEvent): void {
  const r = eventSchema.safeParse(e);
  if (r.success) return;
  const issue = r.error.issues[0];
  const where = issue ? `${issue.path.join('.') || 'event'}: ${issue.message}` : 'invalid';
  const st = 'stationId' in e ? ` station ${String(e.stationId)}` : '';
  throw new InvalidEventError(
    `invalid ${String((e as { type?: unknown }).type)} event at ${String(e.timeSec)}${st}: ${where}`,
  );
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEvent(e: FeedEvent): Uint8Array {
  return encoder.encode(JSON.stringify(e));
}

/** Messages were validated when published; the stream is ours, so no second validation here. */
export function decodeEvent(data: Uint8Array, offset: number): LoggedEvent {
  const e = JSON.parse(decoder.decode(data)) as FeedEvent;
  return { ...e, offset };
}
