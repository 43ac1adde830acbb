/**
 * Migration 2 (PostgreSQL): everything besides the log, as in the SQLite store's migration 2,
 * with two differences of dialect and of use:
 * - The producer's diff state is plain rows (station_status, station_capacity) upserted per
 *   changed station, instead of packed deltas: `serve` replicas read the current status with one
 *   query, and an update that changes no indexed column is a HOT update in place (fillfactor
 *   leaves room on the page for the new row version), so the table does not grow.
 * - diff_state.revision counts commits per system: a process knows its in-memory copy of the
 *   capacities is current when the revision it gets back is its own plus one.
 * Activity keeps the key (system, day, slot, station): one document's increments fall in one
 * (day, slot), i.e. a few neighbouring leaf pages.
 */
export const sql = `
CREATE TABLE diff_state (
  system_id integer PRIMARY KEY REFERENCES systems (id),
  last_document_sec bigint,
  revision bigint NOT NULL
);

CREATE TABLE station_status (
  system_id integer NOT NULL REFERENCES systems (id),
  station_id integer NOT NULL REFERENCES stations (id),
  mechanical integer NOT NULL,
  electric integer NOT NULL,
  other integer NOT NULL,
  bikes_disabled integer NOT NULL,
  docks_available integer NOT NULL,
  docks_disabled integer NOT NULL,
  last_reported_sec bigint,
  -- bit 0 installed, 1 renting, 2 returning
  flags smallint NOT NULL,
  code text,
  PRIMARY KEY (system_id, station_id)
) WITH (fillfactor = 70);

CREATE TABLE station_capacity (
  system_id integer NOT NULL REFERENCES systems (id),
  station_id integer NOT NULL REFERENCES stations (id),
  capacity integer,
  PRIMARY KEY (system_id, station_id)
);

CREATE TABLE activity (
  system_id integer NOT NULL,
  day integer NOT NULL,
  station_id integer NOT NULL,
  rented integer NOT NULL CHECK (rented >= 0),
  returned integer NOT NULL CHECK (returned >= 0),
  slot smallint NOT NULL CHECK (slot BETWEEN 0 AND 143),
  PRIMARY KEY (system_id, day, slot, station_id)
) WITH (fillfactor = 80);

CREATE TABLE checkpoints (
  consumer text PRIMARY KEY,
  log_offset bigint NOT NULL CHECK (log_offset >= 0),
  state text NOT NULL
);

-- Identity ids are pagination cursors: never reused, also after a prune.
CREATE TABLE state_changes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  system_id integer NOT NULL REFERENCES systems (id),
  station_id integer NOT NULL REFERENCES stations (id),
  time_sec bigint NOT NULL,
  log_offset bigint NOT NULL,
  confidence double precision NOT NULL,
  from_state text NOT NULL,
  to_state text NOT NULL,
  detector text NOT NULL,
  reason text NOT NULL,
  evidence text
);
CREATE UNIQUE INDEX state_changes_key ON state_changes (system_id, station_id, detector, log_offset, to_state);
CREATE INDEX state_changes_time ON state_changes (time_sec);
-- The API lists one system's changes newest first.
CREATE INDEX state_changes_system ON state_changes (system_id, id);

CREATE TABLE detected_states (
  system_id integer NOT NULL REFERENCES systems (id),
  station_id integer NOT NULL REFERENCES stations (id),
  since_sec bigint NOT NULL,
  confidence double precision NOT NULL,
  state text NOT NULL,
  detector text NOT NULL,
  PRIMARY KEY (system_id, station_id)
);

CREATE TABLE station_info (
  system_id integer NOT NULL REFERENCES systems (id),
  station_id integer NOT NULL REFERENCES stations (id),
  lat double precision NOT NULL,
  lon double precision NOT NULL,
  capacity integer,
  code text NOT NULL,
  name text NOT NULL,
  PRIMARY KEY (system_id, station_id)
);

CREATE TABLE feed_health (
  system_id integer PRIMARY KEY REFERENCES systems (id),
  last_document_sec bigint,
  last_poll_sec bigint,
  last_success_sec bigint,
  consecutive_failures integer NOT NULL,
  stale boolean NOT NULL,
  last_error text,
  rejected text NOT NULL
);
`;
