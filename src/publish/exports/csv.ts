/**
 * CSV (RFC 4180: comma, CRLF, double quotes doubled) of export pages, one string chunk per page:
 * memory holds one page, never the range. Empty field = null.
 */
import { rfc3339 } from '../time.js';
import type { CellValue, ColumnType, ExportColumn } from './columns.js';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

const CHUNK_ROWS = 2000;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

function quoted(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvField(value: CellValue, type: ColumnType): string {
  if (value === null) return '';
  if (type === 'time' && typeof value === 'number') return rfc3339(value);
  return typeof value === 'string' ? quoted(value) : String(value);
}

/** One formatter per column, chosen once: the per-cell work is then a call and a concatenation. */
function formatter<R>(c: ExportColumn<R>): (row: R) => string {
  const value = c.value;
  switch (c.type) {
    case 'time': {
      // Rows come in time order and many share a document time: format each time once.
      let lastSec = NaN;
      let lastText = '';
      return (row) => {
        const v = value(row);
        if (typeof v !== 'number') return v === null ? '' : quoted(String(v));
        if (v !== lastSec) {
          lastSec = v;
          lastText = rfc3339(v);
        }
        return lastText;
      };
    }
    case 'string':
    case 'json':
      return (row) => {
        const v = value(row);
        return v === null ? '' : quoted(String(v));
      };
    default:
      // Numbers and booleans never need quotes.
      return (row) => {
        const v = value(row);
        return v === null ? '' : String(v);
      };
  }
}

export async function* csvChunks<R>(
  columns: readonly ExportColumn<R>[],
  pages: AsyncIterable<R[]>,
): AsyncGenerator<string> {
  yield columns.map((c) => c.name).join(',') + '\r\n';
  const formatters = columns.map(formatter);
  const n = formatters.length;
  for await (const page of pages) {
    // Chunks of a few hundred KB: big enough for few writes, small enough to stay out of the old heap.
    for (let start = 0; start < page.length; start += CHUNK_ROWS) {
      const end = Math.min(page.length, start + CHUNK_ROWS);
      let chunk = '';
      for (let i = start; i < end; i++) {
        const row = page[i]!;
        let line = formatters[0]!(row);
        for (let j = 1; j < n; j++) line += ',' + formatters[j]!(row);
        chunk += line + '\r\n';
      }
      yield chunk;
    }
  }
}
