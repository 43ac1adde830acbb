/**
 * Backend-neutral packed formats shared by every store adapter (SQLite, PostgreSQL, DynamoDB):
 * varints (bytes.ts), event batches (events.ts), the producer's diff state (state.ts) and
 * checkpoints with binary parts (checkpoint.ts).
 */
export { ByteReader, ByteWriter } from './bytes.js';
export { decodeEvent, decoded, encodeEvent, InvalidEventError, kindOf, withOffset } from './events.js';
export {
  applyPacked,
  copyStatus,
  packImage,
  writeStatus,
  type StateMirror,
  type StationIds,
} from './state.js';
export { asBuffer, joinCheckpoint, splitCheckpoint, type CheckpointParts } from './checkpoint.js';
