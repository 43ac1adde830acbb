/**
 * The single-table layout: every item has a string partition key `pk` and a string sort key
 * `sk`. Numbers in sort keys are fixed-width decimal so that string order is number order.
 *
 * | item                  | pk                 | sk                        | written by                |
 * |-----------------------|--------------------|---------------------------|---------------------------|
 * | log batch             | LOG                | o{first offset}           | append (conditional put)  |
 * | dedup hint            | T#{system}         | {time sec}                | append (UpdateItem ADD)   |
 * | log head (after prune)| META               | loghead                   | prune                     |
 * | consumer              | C                  | {consumer}                | commit* (offset, intent)  |
 * | diff-state image      | D#{system}         | image                     | commitDiff, every 64 docs |
 * | diff-state delta      | D#{system}         | d{rev mod 128}            | commitDiff (ring of 128)  |
 * | activity part         | A#{system}         | {day}#{slot}#{offset}     | commitActivity            |
 * | activity, station day | AS#{system}#{stat.}| {day}                     | rollup (next day)         |
 * | activity, whole day   | AD#{system}        | {day}#{chunk}             | rollup (next day)         |
 * | state change          | SC                 | {id}                      | commitDetection           |
 * | state-change key      | SK#{system}        | {station}#{det}#{off}#{to}| commitDetection           |
 * | detected state        | DS#{system}        | {station}                 | saveDetectedStates        |
 * | station information   | SI#{system}        | {station}                 | saveStationInfo           |
 * | checkpoint chunk      | CK#{consumer}      | g{generation}#{chunk}     | commitDetection           |
 * | system / health / ids | META               | sys#{id} / health#{id} …  | upsertSystem …            |
 *
 * Every read of a hot path is a GetItem or a Query on one partition key; nothing scans.
 */

export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** TTL attribute: POSIX seconds after which DynamoDB deletes the item (within ~2 days). */
  ttlAttribute: 'expiresAt',
  /** Stream records carry the new item: consumers of the stream need nothing else. */
  streamViewType: 'NEW_IMAGE',
} as const;

/** CreateTable input for the layout (on-demand capacity, stream on); CDK builds the same table. */
export function tableDefinition(table: string) {
  return {
    TableName: table,
    AttributeDefinitions: [
      { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' as const },
    ],
    BillingMode: 'PAY_PER_REQUEST' as const,
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE_SCHEMA.streamViewType },
  };
}

export interface Key {
  pk: string;
  sk: string;
}

/** Non-negative integers, 16 digits: offsets, ids, times. */
export function num16(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`key number must be an integer >= 0, got ${n}`);
  return String(n).padStart(16, '0');
}

/** Any safe integer (document times, days may be negative in tests), order-preserving. */
export function signed(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`key number must be an integer, got ${n}`);
  // Shifted by 2^53 - 1: every safe integer becomes 0 … 2^54 - 2, 17 digits at most.
  return (BigInt(n) + 9_007_199_254_740_991n).toString().padStart(17, '0');
}

/** The number a `signed()` key part holds. */
export function fromSigned(text: string): number {
  return Number(BigInt(text.slice(0, 17)) - 9_007_199_254_740_991n);
}

export const LOG_PK = 'LOG';
export const logKey = (firstOffset: number): Key => ({ pk: LOG_PK, sk: `o${num16(firstOffset)}` });
export const offsetOfLogSk = (sk: string): number => Number(sk.slice(1));
export const hintKey = (system: string, timeSec: number): Key => ({ pk: `T#${system}`, sk: signed(timeSec) });
export const META_PK = 'META';
export const logHeadKey: Key = { pk: META_PK, sk: 'loghead' };
export const schemaKey: Key = { pk: META_PK, sk: 'schema' };
export const changeIdKey: Key = { pk: META_PK, sk: 'change-id' };
export const systemKey = (id: string): Key => ({ pk: META_PK, sk: `sys#${id}` });
export const healthKey = (id: string): Key => ({ pk: META_PK, sk: `health#${id}` });
/** Marks a system that has activity items (prune visits those partitions). */
export const activitySystemKey = (id: string): Key => ({ pk: META_PK, sk: `act#${id}` });
export const CONSUMER_PK = 'C';
export const consumerKey = (consumer: string): Key => ({ pk: CONSUMER_PK, sk: consumer });
/**
 * Checkpoints apart from the offsets (an offset update is then a write of a few bytes, not of the
 * state), in chunks of one generation each: `g{generation}#{chunk}`. A generation's sort keys all
 * start with `g{generation}`, so `BETWEEN g{a} AND g{b}` holds exactly generations a … b − 1.
 */
export const checkpointPk = (consumer: string): string => `CK#${consumer}`;
export const generationSk = (generation: number): string => `g${num16(generation)}`;
export const checkpointChunkKey = (consumer: string, generation: number, chunk: number): Key => ({
  pk: checkpointPk(consumer),
  sk: `${generationSk(generation)}#${String(chunk).padStart(6, '0')}`,
});
export const diffPk = (system: string): string => `D#${system}`;
export const imageKey = (system: string): Key => ({ pk: diffPk(system), sk: 'image' });
export const deltaKey = (system: string, slot: number): Key => ({
  pk: diffPk(system),
  sk: `d${String(slot).padStart(3, '0')}`,
});
export const activityPk = (system: string): string => `A#${system}`;
export const activityStationPk = (system: string, station: string): string => `AS#${system}#${station}`;
export const activityDayPk = (system: string): string => `AD#${system}`;
/** The last day whose activity parts are rolled up into per-station and whole-day items. */
export const rolledKey = (system: string): Key => ({ pk: META_PK, sk: `rolled#${system}` });
export const CHANGE_PK = 'SC';
export const changeKey = (id: number): Key => ({ pk: CHANGE_PK, sk: num16(id) });
export const changeIdOfSk = (sk: string): number => Number(sk);
export const changeUniqueKey = (
  system: string,
  station: string,
  detector: string,
  offset: number,
  to: string,
): Key => ({
  pk: `SK#${system}`,
  // Station and detector names may hold '#': JSON keeps the parts apart.
  sk: JSON.stringify([station, detector, offset, to]),
});
export const detectedPk = (system: string): string => `DS#${system}`;
export const infoPk = (system: string): string => `SI#${system}`;

/** TTL value: `days` after the later of the item's own time and now (a replay of old data is kept too). */
export function expiresAt(
  days: number,
  itemTimeSec: number,
  nowSec = Math.floor(Date.now() / 1000),
): number | undefined {
  if (days <= 0) return undefined;
  return Math.max(itemTimeSec, nowSec) + days * 86_400;
}
