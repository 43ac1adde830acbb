/** Exports of events and state changes for a time range, as CSV or Parquet, streamed. */
export {
  EVENT_COLUMNS,
  STATE_CHANGE_COLUMNS,
  type CellValue,
  type ColumnType,
  type EventRow,
  type ExportColumn,
  type StateChangeRow,
} from './columns.js';
export { CSV_CONTENT_TYPE, csvChunks, csvField } from './csv.js';
export { PARQUET_CONTENT_TYPE, parquetChunks } from './parquet.js';
export { ExportRequestError, parseExportRange, parseTimeParam, type ExportRange } from './range.js';
export {
  LOG_TIME_SLACK_SEC,
  eventPages,
  eventsOverLimit,
  offsetBefore,
  planEventScan,
  stateChangePages,
  stateChangesOverLimit,
  type EventScan,
} from './sources.js';
