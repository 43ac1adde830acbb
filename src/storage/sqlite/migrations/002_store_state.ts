/**
 * Migration 2: everything the pipeline keeps besides the log — the producer's diff state, activity
 * slots, detector checkpoints and state changes, station information and feed health.
 *
 * Tables keyed by (system, station) are WITHOUT ROWID: the key is the row, no second b-tree.
 * Activity is keyed (system, day, slot, station): one document's increments all fall in the same
 * (day, slot), so a commit touches one or two pages at the right edge of the b-tree. Keyed by
 * station first, the ~150 increments of a document would land on ~150 scattered pages and each
 * commit would write ~600 KB to the WAL. One station's history is read by point lookups per
 * (day, slot) instead (see store.ts).
 */
export const sql = `
-- The producer's diff state, packed (../../codec/state.ts): a full image every DIFF_IMAGE_EVERY
-- documents, and in between one delta row per document (changed stations, removals, capacity
-- changes). Loading = the image + the deltas after it. One small row per document instead of one
-- upsert per changed station keeps commitDiff cheap.
CREATE TABLE diff_state (
  system_id INTEGER PRIMARY KEY REFERENCES systems (id),
  -- the image includes every delta with id <= base_delta_id
  base_delta_id INTEGER NOT NULL,
  last_document_sec INTEGER,
  image BLOB NOT NULL
) STRICT;

-- AUTOINCREMENT: deltas folded into an image are deleted, and ids must keep growing past them.
CREATE TABLE diff_deltas (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system_id INTEGER NOT NULL REFERENCES systems (id),
  last_document_sec INTEGER NOT NULL,
  delta BLOB NOT NULL
) STRICT;
CREATE INDEX diff_deltas_system ON diff_deltas (system_id, id);

CREATE TABLE activity (
  system_id INTEGER NOT NULL,
  station_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  slot INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 143),
  rented INTEGER NOT NULL CHECK (rented >= 0),
  returned INTEGER NOT NULL CHECK (returned >= 0),
  PRIMARY KEY (system_id, day, slot, station_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoints (
  consumer TEXT PRIMARY KEY,
  log_offset INTEGER NOT NULL CHECK (log_offset >= 0),
  state TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: ids are pagination cursors and must never be reused after a prune.
CREATE TABLE state_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system_id INTEGER NOT NULL REFERENCES systems (id),
  station_id INTEGER NOT NULL REFERENCES stations (id),
  time_sec INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  detector TEXT NOT NULL,
  confidence REAL NOT NULL,
  reason TEXT NOT NULL,
  evidence TEXT,
  log_offset INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX state_changes_key ON state_changes (system_id, station_id, detector, log_offset, to_state);
CREATE INDEX state_changes_time ON state_changes (time_sec);

CREATE TABLE detected_states (
  system_id INTEGER NOT NULL REFERENCES systems (id),
  station_id INTEGER NOT NULL REFERENCES stations (id),
  state TEXT NOT NULL,
  since_sec INTEGER NOT NULL,
  confidence REAL NOT NULL,
  detector TEXT NOT NULL,
  PRIMARY KEY (system_id, station_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE station_info (
  system_id INTEGER NOT NULL REFERENCES systems (id),
  station_id INTEGER NOT NULL REFERENCES stations (id),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  lat REAL NOT NULL,
  lon REAL NOT NULL,
  capacity INTEGER,
  PRIMARY KEY (system_id, station_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE feed_health (
  system_id INTEGER PRIMARY KEY REFERENCES systems (id),
  last_document_sec INTEGER,
  last_poll_sec INTEGER,
  last_success_sec INTEGER,
  stale INTEGER NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  last_error TEXT,
  -- one small object per system, read whole: JSON is the right shape here
  rejected TEXT NOT NULL
) STRICT;
`;
