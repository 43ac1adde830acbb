/**
 * The columns of the exports, one list per dataset, shared by the CSV and the Parquet writers so
 * both files always hold the same table. Documented in docs/feeds.md.
 */
import type { StoredStateChange } from '../../storage/index.js';
import type { LoggedEvent } from '../../events/index.js';

/** `time`: POSIX seconds, written as RFC 3339 in CSV and as a UTC timestamp (ms) in Parquet. */
export type ColumnType = 'int' | 'float' | 'string' | 'bool' | 'json' | 'time';
export type CellValue = number | string | boolean | null;

export interface ExportColumn<R> {
  name: string;
  type: ColumnType;
  value: (row: R) => CellValue;
}

export interface EventRow {
  event: LoggedEvent;
  /** Station code people know, from station_information (null for system-wide events). */
  code: string | null;
}

export interface StateChangeRow {
  change: StoredStateChange;
  code: string | null;
}

const countsAfter = (e: LoggedEvent) => ('after' in e ? e.after : null);

export const EVENT_COLUMNS: ExportColumn<EventRow>[] = [
  { name: 'offset', type: 'int', value: (r) => r.event.offset },
  { name: 'time_sec', type: 'int', value: (r) => r.event.timeSec },
  { name: 'time', type: 'time', value: (r) => r.event.timeSec },
  { name: 'system', type: 'string', value: (r) => r.event.system },
  { name: 'type', type: 'string', value: (r) => r.event.type },
  { name: 'station_id', type: 'string', value: (r) => ('stationId' in r.event ? r.event.stationId : null) },
  { name: 'station_code', type: 'string', value: (r) => r.code },
  {
    name: 'bike_type',
    type: 'string',
    value: (r) => (r.event.type === 'rented' || r.event.type === 'returned' ? r.event.bikeType : null),
  },
  {
    name: 'count',
    type: 'int',
    value: (r) => (r.event.type === 'rented' || r.event.type === 'returned' ? r.event.count : null),
  },
  { name: 'flag', type: 'string', value: (r) => (r.event.type === 'status_changed' ? r.event.flag : null) },
  {
    name: 'flag_from',
    type: 'bool',
    value: (r) => (r.event.type === 'status_changed' ? r.event.from : null),
  },
  { name: 'flag_to', type: 'bool', value: (r) => (r.event.type === 'status_changed' ? r.event.to : null) },
  {
    name: 'capacity_from',
    type: 'int',
    value: (r) => (r.event.type === 'capacity_changed' ? r.event.from : null),
  },
  {
    name: 'capacity_to',
    type: 'int',
    value: (r) => (r.event.type === 'capacity_changed' ? r.event.to : null),
  },
  { name: 'mechanical', type: 'int', value: (r) => countsAfter(r.event)?.bikes.mechanical ?? null },
  { name: 'electric', type: 'int', value: (r) => countsAfter(r.event)?.bikes.electric ?? null },
  { name: 'other', type: 'int', value: (r) => countsAfter(r.event)?.bikes.other ?? null },
  { name: 'docks_available', type: 'int', value: (r) => countsAfter(r.event)?.docksAvailable ?? null },
  { name: 'bikes_disabled', type: 'int', value: (r) => countsAfter(r.event)?.bikesDisabled ?? null },
  { name: 'docks_disabled', type: 'int', value: (r) => countsAfter(r.event)?.docksDisabled ?? null },
  {
    name: 'is_installed',
    type: 'bool',
    value: (r) => (r.event.type === 'station_added' ? r.event.flags.installed : null),
  },
  {
    name: 'is_renting',
    type: 'bool',
    value: (r) => (r.event.type === 'station_added' ? r.event.flags.renting : null),
  },
  {
    name: 'is_returning',
    type: 'bool',
    value: (r) => (r.event.type === 'station_added' ? r.event.flags.returning : null),
  },
  { name: 'stations', type: 'int', value: (r) => (r.event.type === 'snapshot' ? r.event.stations : null) },
  {
    name: 'interval_sec',
    type: 'int',
    value: (r) => (r.event.type === 'snapshot' ? r.event.intervalSec : null),
  },
  { name: 'gap_from_sec', type: 'int', value: (r) => (r.event.type === 'feed_gap' ? r.event.fromSec : null) },
  { name: 'gap_sec', type: 'int', value: (r) => (r.event.type === 'feed_resumed' ? r.event.gapSec : null) },
];

export const STATE_CHANGE_COLUMNS: ExportColumn<StateChangeRow>[] = [
  { name: 'id', type: 'int', value: (r) => r.change.id },
  { name: 'time_sec', type: 'int', value: (r) => r.change.timeSec },
  { name: 'time', type: 'time', value: (r) => r.change.timeSec },
  { name: 'system', type: 'string', value: (r) => r.change.system },
  { name: 'station_id', type: 'string', value: (r) => r.change.stationId },
  { name: 'station_code', type: 'string', value: (r) => r.code },
  { name: 'from', type: 'string', value: (r) => r.change.from },
  { name: 'to', type: 'string', value: (r) => r.change.to },
  { name: 'detector', type: 'string', value: (r) => r.change.detector },
  { name: 'confidence', type: 'float', value: (r) => r.change.confidence },
  { name: 'reason', type: 'string', value: (r) => r.change.reason },
  { name: 'expected', type: 'float', value: (r) => r.change.evidence?.expected ?? null },
  { name: 'observed', type: 'float', value: (r) => r.change.evidence?.observed ?? null },
  { name: 'inactive_sec', type: 'float', value: (r) => r.change.evidence?.inactiveSec ?? null },
  {
    name: 'evidence',
    type: 'json',
    value: (r) => (r.change.evidence === null ? null : JSON.stringify(r.change.evidence)),
  },
  { name: 'offset', type: 'int', value: (r) => r.change.offset },
];
