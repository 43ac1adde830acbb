/**
 * Parquet of export pages with hyparquet-writer: each page becomes one row group (so a row group
 * never holds more than a page), written to an in-memory buffer that is handed out and emptied
 * after every group — the file streams out while the range is still being read.
 */
import type { BasicType, ByteWriter } from 'hyparquet-writer';
import type { ColumnType, ExportColumn } from './columns.js';

type HyparquetWriter = typeof import('hyparquet-writer');
/** A ByteWriter whose bytes are taken away at each flush (after each row group, and at the end). */
interface ChunkWriter extends ByteWriter {
  take(): Buffer[];
}

/**
 * hyparquet-writer (and the hyparquet reader it imports) is loaded by the first Parquet export,
 * not by every `dockwatch watch`: most never serve one (memory: docs/performance.md §3).
 */
let library: Promise<{ lib: HyparquetWriter; newChunkWriter: (size: number) => ChunkWriter }> | undefined;
function loadLibrary(): NonNullable<typeof library> {
  library ??= import('hyparquet-writer').then((lib) => {
    class Chunks extends lib.ByteWriter implements ChunkWriter {
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
    return { lib, newChunkWriter: (size: number) => new Chunks(size) };
  });
  return library;
}

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

const PARQUET_TYPES: Record<ColumnType, BasicType> = {
  int: 'INT64',
  float: 'DOUBLE',
  string: 'STRING',
  bool: 'BOOLEAN',
  json: 'JSON',
  time: 'TIMESTAMP',
};

export async function* parquetChunks<R>(
  columns: readonly ExportColumn<R>[],
  pages: AsyncIterable<R[]>,
  metadata: Record<string, string> = {},
): AsyncGenerator<Buffer> {
  const { lib, newChunkWriter } = await loadLibrary();
  const { ParquetWriter, schemaFromColumnData } = lib;
  const schema = schemaFromColumnData({
    columnData: columns.map((c) => ({ name: c.name, data: [], type: PARQUET_TYPES[c.type], nullable: true })),
  });
  const writer = newChunkWriter(1 << 20);
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
