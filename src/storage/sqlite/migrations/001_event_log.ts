/**
 * Migration 1: the event log, the id dictionaries and consumer offsets.
 *
 * The log is the bulk of the file (~200 k station events a day for Vélib'), so it is stored as
 * batches: one row per run of events of one system at one document time (normally one row per
 * document), the events packed as varints (codec.ts). A rented event takes ~10 bytes instead of
 * ~50 as a row plus ~20 in a unique index, and appending a document is one INSERT instead of one
 * per event. (The same idea as Kafka's record batches.)
 * - `first_offset` is the rowid; the batch holds offsets first_offset … first_offset + event_count - 1.
 *   No AUTOINCREMENT: offsets are assigned in the write transaction as max + 1, so a duplicate
 *   skipped or a transaction rolled back takes no number and the log stays gapless.
 * - `event_batches_time` finds the batches of a (system, document time): that is how an append
 *   recognises events already present (the event key is system|station|time|type|sub-key).
 * - systems and stations are dictionary ids (1–2-byte varints) instead of repeated strings
 *   (Vélib' station ids have up to 11 digits).
 * STRICT tables reject a value of the wrong type instead of storing it.
 */
export const sql = `
CREATE TABLE systems (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  -- NULL until upsertSystem(): the row then is only a dictionary entry.
  name TEXT,
  feed_url TEXT,
  timezone TEXT
) STRICT;

CREATE TABLE stations (
  id INTEGER PRIMARY KEY,
  system_id INTEGER NOT NULL REFERENCES systems (id),
  key TEXT NOT NULL,
  UNIQUE (system_id, key)
) STRICT;

CREATE TABLE event_batches (
  first_offset INTEGER PRIMARY KEY,
  event_count INTEGER NOT NULL CHECK (event_count > 0),
  system_id INTEGER NOT NULL,
  time_sec INTEGER NOT NULL,
  events BLOB NOT NULL
) STRICT;
CREATE INDEX event_batches_time ON event_batches (system_id, time_sec);

CREATE TABLE consumer_offsets (
  consumer TEXT PRIMARY KEY,
  log_offset INTEGER NOT NULL CHECK (log_offset >= 0)
) STRICT, WITHOUT ROWID;
`;
