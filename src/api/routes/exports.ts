/**
 * GET /exports/{events,state-changes}.{csv,parquet}?since=…&until=… — a time range of the event
 * log or of the state changes, streamed as CSV or Parquet. Everything that can be refused is
 * checked before the first byte goes out: range, length, row limit.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CSV_CONTENT_TYPE,
  EVENT_COLUMNS,
  ExportRequestError,
  PARQUET_CONTENT_TYPE,
  STATE_CHANGE_COLUMNS,
  csvChunks,
  eventPages,
  eventsOverLimit,
  parquetChunks,
  parseExportRange,
  planEventScan,
  resolvePublishOptions,
  rfc3339,
  stateChangePages,
  stateChangesOverLimit,
  type EventRow,
  type ExportColumn,
  type ExportRange,
  type PublishOptions,
  type StateChangeRow,
} from '../../publish/index.js';
import { contextOf, type ApiContext } from '../context.js';
import { ApiError } from '../errors.js';

interface Query {
  since: string;
  until: string;
}

const timeParam = (what: string) =>
  ({
    type: 'string',
    minLength: 1,
    maxLength: 40,
    description: `${what}: POSIX seconds or ISO 8601 (a date or a time without offset is in the system's time zone)`,
  }) as const;

const querystring = {
  type: 'object',
  additionalProperties: false,
  required: ['since', 'until'],
  properties: { since: timeParam('Start, inclusive'), until: timeParam('End, exclusive') },
} as const;

type Format = 'csv' | 'parquet';
type Dataset = 'events' | 'state-changes';

/** What a dataset needs to stream: its columns, its pages, and how to refuse a too-large range. */
interface DatasetSource<R> {
  columns: readonly ExportColumn<R>[];
  prepare(
    ctx: ApiContext,
    range: ExportRange,
    maxRows: number,
  ): Promise<{ overLimit: boolean; pages: () => AsyncIterable<R[]> }>;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
const compactTime = (sec: number): string => rfc3339(sec).replace(/[-:]/g, '');

/**
 * Registered at /api/v1 (the default system, `base`) and at /api/v1/systems/:system (any system:
 * the request's context, see contextOf).
 */
export function exportRoutes(app: FastifyInstance, base: ApiContext, options: PublishOptions = {}): void {
  const opts = resolvePublishOptions(options);
  const pageRows = opts.exportRowGroupRows;

  const events: DatasetSource<EventRow> = {
    columns: EVENT_COLUMNS,
    async prepare({ store, systemId }, range, maxRows) {
      const scan = await planEventScan(store, range);
      return {
        overLimit: await eventsOverLimit(store, systemId, range, scan, maxRows),
        pages: () => eventPages(store, systemId, range, scan, pageRows),
      };
    },
  };
  const stateChanges: DatasetSource<StateChangeRow> = {
    columns: STATE_CHANGE_COLUMNS,
    async prepare({ store, systemId }, range, maxRows) {
      return {
        overLimit: await stateChangesOverLimit(store, systemId, range, maxRows),
        pages: () => stateChangePages(store, systemId, range, pageRows),
      };
    },
  };

  async function serve<R>(
    req: FastifyRequest<{ Querystring: Query }>,
    reply: FastifyReply,
    dataset: Dataset,
    format: Format,
    source: DatasetSource<R>,
  ): Promise<FastifyReply> {
    const ctx = contextOf(req, base);
    const { systemId } = ctx;
    let range: ExportRange;
    try {
      range = parseExportRange(req.query.since, req.query.until, {
        timezone: ctx.timezone,
        maxRangeDays: opts.exportMaxRangeDays,
      });
    } catch (err) {
      if (err instanceof ExportRequestError) throw new ApiError(err.kind, err.message, err.param);
      throw err;
    }
    const { overLimit, pages } = await source.prepare(ctx, range, opts.exportMaxRows);
    if (overLimit) {
      throw new ApiError(
        'invalid_range',
        `The range holds more than ${opts.exportMaxRows.toLocaleString('en')} ${dataset === 'events' ? 'events' : 'state changes'}, the row limit of one export: narrow the range.`,
        'until',
      );
    }
    const file = `${safeName(systemId)}-${dataset}-${compactTime(range.sinceSec)}-${compactTime(range.untilSec)}.${format}`;
    const chunks =
      format === 'csv'
        ? csvChunks(source.columns, pages())
        : parquetChunks(source.columns, pages(), {
            'dockwatch.dataset': dataset,
            'dockwatch.system': systemId,
            'dockwatch.since': rfc3339(range.sinceSec),
            'dockwatch.until': rfc3339(range.untilSec),
          });
    const stream = Readable.from(chunks, { objectMode: false });
    stream.on('error', (err) => req.log.error({ err, dataset, format }, 'export failed while streaming'));
    return reply
      .header('content-disposition', `attachment; filename="${file}"`)
      .header('cache-control', ctx.dataCacheControl)
      .type(format === 'csv' ? CSV_CONTENT_TYPE : PARQUET_CONTENT_TYPE)
      .send(stream);
  }

  const route = <R>(dataset: Dataset, format: Format, source: DatasetSource<R>, summary: string): void => {
    app.get<{ Querystring: Query }>(
      `/exports/${dataset}.${format}`,
      {
        // Parquet pages are already compressed (snappy); CSV compresses well on the wire.
        ...(format === 'parquet' ? { compress: false as const } : {}),
        schema: {
          summary,
          tags: ['exports'],
          querystring,
          response: {
            200: { type: 'string', format: 'binary', description: `${format.toUpperCase()} file` },
            400: { $ref: 'ApiError#' },
            404: { $ref: 'ApiError#' },
          },
        },
      },
      (req, reply) => serve(req, reply, dataset, format, source),
    );
  };
  route('events', 'csv', events, 'Event log of a time range, as CSV (streamed)');
  route('events', 'parquet', events, 'Event log of a time range, as Parquet (streamed)');
  route('state-changes', 'csv', stateChanges, 'State changes of a time range, as CSV (streamed)');
  route('state-changes', 'parquet', stateChanges, 'State changes of a time range, as Parquet (streamed)');
}
