/**
 * Parquet of export pages with hyparquet-writer: each page becomes one row group (so a row group
 * never holds more than a page), written to an in-memory buffer that is handed out and emptied
 * after every group — the file streams out while the range is still being read.
 */
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import type { BasicType } from 'hyparquet-writer';
import type { ColumnType, ExportColumn } from './columns.js';

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

const PARQUET_TYPES: Record<ColumnType, BasicType> = {
  int: 'INT64',
  float: 'DOUBLE',
  string: 'STRING',
  bool: 'BOOLEAN',
  json: 'JSON',
  time: 'TIMESTAMP',
};

/** A ByteWriter whose bytes are taken away at each flush (after each row group, and at the end). */
class ChunkWriter extends ByteWriter {
  readonly chunks: Buffer[] = [];

  flush(): void {
    if (this.index === 0) return;
    this.chunks.push(Buffer.from(this.buffer.slice(0, this.index)));
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }

  take(): Buffer[] {
    return this.chunks.splice(0, this.chunks.length);
  }
}

export async function* parquetChunks<R>(
  columns: readonly ExportColumn<R>[],
  pages: AsyncIterable<R[]>,
  metadata: Record<string, string> = {},
): AsyncGenerator<Buffer> {
  const schema = schemaFromColumnData({
    columnData: columns.map((c) => ({ name: c.name, data: [], type: PARQUET_TYPES[c.type], nullable: true })),
  });
  const writer = new ChunkWriter(1 << 20);
  const pq = new ParquetWriter({
    writer,
    schema,
    codec: 'SNAPPY',
    createdBy: 'dockwatch (hyparquet-writer)',
    kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  for await (const page of pages) {
    if (page.length === 0) continue;
    const columnData = columns.map((c) => ({
      name: c.name,
      data: page.map((row) => {
        const v = c.value(row);
        if (typeof v !== 'number') return v;
        // INT64 wants bigint; times become Dates (TIMESTAMP_MILLIS, UTC).
        return c.type === 'int' ? BigInt(v) : c.type === 'time' ? new Date(v * 1000) : v;
      }),
    }));
    await pq.write({ columnData, rowGroupSize: page.length });
    yield* writer.take();
  }
  await pq.finish();
  yield* writer.take();
}
