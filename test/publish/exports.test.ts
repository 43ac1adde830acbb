/**
 * Exports of events and state changes: streamed CSV parsed back with csv-parse, Parquet read back
 * with hyparquet, both compared with what the store holds; every refusal is a clear 400.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../../src/events/index.js';
import {
  EVENT_COLUMNS,
  ExportRequestError,
  STATE_CHANGE_COLUMNS,
  parseExportRange,
  parseTimeParam,
  rfc3339,
} from '../../src/publish/index.js';
import type { StoredStateChange } from '../../src/storage/index.js';
import { SYSTEM, TIMEZONE, buildWorld, pollUntilState, type World } from './fixture.js';

const DAY_SEC = 86_400;
const utc = (...a: [number, number, number, number?, number?, number?]): number =>
  Date.UTC(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0) / 1000;

function refusal(fn: () => unknown): ExportRequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExportRequestError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('time parameters', () => {
  it('reads POSIX seconds, RFC 3339 with an offset, and local dates and times', () => {
    expect(parseTimeParam('1760000000', 'since', TIMEZONE)).toBe(1_760_000_000);
    expect(parseTimeParam('2025-10-14T08:00:00Z', 'since', TIMEZONE)).toBe(utc(2025, 10, 14, 8));
    expect(parseTimeParam('2025-10-14T10:00:00+02:00', 'since', TIMEZONE)).toBe(utc(2025, 10, 14, 8));
    expect(parseTimeParam('2025-10-14T08:00:00.250Z', 'since', TIMEZONE)).toBe(utc(2025, 10, 14, 8));
    // A date is local midnight: CEST (+02:00) in October, CET (+01:00) after the change back.
    expect(parseTimeParam('2025-10-14', 'since', TIMEZONE)).toBe(utc(2025, 10, 13, 22));
    expect(parseTimeParam('2025-10-27', 'since', TIMEZONE)).toBe(utc(2025, 10, 26, 23));
    expect(parseTimeParam('2025-10-26T12:30', 'since', TIMEZONE)).toBe(utc(2025, 10, 26, 11, 30));
    expect(parseTimeParam('2025-10-14', 'since', 'America/Los_Angeles')).toBe(utc(2025, 10, 14, 7));
  });

  it('refuses what it cannot read, naming the parameter', () => {
    for (const bad of [
      'yesterday',
      '2025-02-30',
      '2025-10-14T25:00Z',
      '14/10/2025',
      '',
      '2025-10-14T08:00+25:00',
    ]) {
      const err = refusal(() => parseTimeParam(bad, 'until', TIMEZONE));
      expect(err.kind, bad).toBe('invalid_parameter');
      expect(err.param).toBe('until');
    }
    // Milliseconds given as seconds: said so.
    expect(refusal(() => parseTimeParam('1760000000000', 'since', TIMEZONE)).message).toContain(
      'milliseconds',
    );
  });

  it('refuses empty, backwards and too long ranges', () => {
    const opts = { timezone: TIMEZONE, maxRangeDays: 31 };
    expect(parseExportRange('2025-10-01', '2025-10-02', opts)).toEqual({
      sinceSec: utc(2025, 9, 30, 22),
      untilSec: utc(2025, 10, 1, 22),
    });
    expect(refusal(() => parseExportRange('1760000000', '1760000000', opts)).kind).toBe('invalid_range');
    expect(refusal(() => parseExportRange('2025-10-02', '2025-10-01', opts)).kind).toBe('invalid_range');
    const long = refusal(() => parseExportRange('2025-01-01', '2025-03-01', opts));
    expect(long.kind).toBe('invalid_range');
    expect(long.message).toContain('at most 31 days');
  });
});

type Row = Record<string, unknown>;

async function download(url: string): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(url);
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function readParquet(body: Buffer): Promise<{ rows: Row[]; groupRows: number[] }> {
  const file = new Uint8Array(body).buffer; // a copy: an ArrayBuffer of exactly the file
  const meta = parquetMetadata(file);
  return {
    rows: (await parquetReadObjects({ file })) as Row[],
    groupRows: meta.row_groups.map((g) => Number(g.num_rows)),
  };
}

describe('exports over HTTP', () => {
  let world: World;
  let url: string;
  let sinceSec: number;
  let untilSec: number;
  let events: LoggedEvent[];
  let changes: StoredStateChange[];

  beforeAll(async () => {
    world = await buildWorld();
    ({ url } = await world.server({ exportRowGroupRows: 1000 }));
    const target = world.busiest[0]!;
    world.sim.injectFault({ kind: 'locked', stationId: target, startInSec: 0 });
    await pollUntilState(world, target, 'locked', 400);
    // Three days ending after the last document: history, the lock, and a part of the log left out.
    untilSec = world.lastDocSec + 1;
    sinceSec = untilSec - 3 * DAY_SEC;
    events = (await world.store.log.read(0, 10_000_000)).filter(
      (e) => e.system === SYSTEM && e.timeSec >= sinceSec && e.timeSec < untilSec,
    );
    changes = (
      await world.store.listStateChanges({ system: SYSTEM, sinceSec, untilSec, limit: 100_000 })
    ).reverse();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('events as CSV: streamed, every event of the range in log order', async () => {
    expect(events.length).toBeGreaterThan(3000);
    const { res, body } = await download(
      `${url}/api/v1/exports/events.csv?since=${sinceSec}&until=${untilSec}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('content-length')).toBeNull(); // chunked: written while read
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="${SYSTEM}-events-${rfc3339(sinceSec).replace(/[-:]/g, '')}-${rfc3339(untilSec).replace(/[-:]/g, '')}.csv"`,
    );
    const text = body.toString('utf8');
    expect(text.slice(0, text.indexOf('\r\n'))).toBe(EVENT_COLUMNS.map((c) => c.name).join(','));
    const rows = parseCsv<Record<string, string>>(text, { columns: true });
    expect(rows.map((r) => Number(r['offset']))).toEqual(events.map((e) => e.offset));
    const codes = new Map((await world.store.listStationInfo(SYSTEM)).map((i) => [i.stationId, i.code]));
    // One comparison of whole tables (thousands of rows): cell by cell would be slower than the export.
    const blank = (v: string | number | null | undefined): string =>
      v === null || v === undefined ? '' : String(v);
    const got = rows.map((r) =>
      [
        'offset',
        'time_sec',
        'time',
        'type',
        'station_id',
        'station_code',
        'bike_type',
        'count',
        'docks_available',
        'stations',
      ].map((k) => r[k]),
    );
    const want = events.map((e) =>
      [
        e.offset,
        e.timeSec,
        rfc3339(e.timeSec),
        e.type,
        'stationId' in e ? e.stationId : null,
        'stationId' in e ? codes.get(e.stationId) : null,
        e.type === 'rented' || e.type === 'returned' ? e.bikeType : null,
        e.type === 'rented' || e.type === 'returned' ? e.count : null,
        'after' in e ? e.after.docksAvailable : null,
        e.type === 'snapshot' ? e.stations : null,
      ].map(blank),
    );
    expect(got).toEqual(want);
    expect(new Set(events.map((e) => e.type)).size).toBeGreaterThan(3);
  });

  it('events as Parquet: the same table, in row groups of bounded size', async () => {
    const { res, body } = await download(
      `${url}/api/v1/exports/events.parquet?since=${sinceSec}&until=${untilSec}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    expect(body.subarray(0, 4).toString()).toBe('PAR1');
    const { rows, groupRows } = await readParquet(body);
    expect(groupRows.length).toBeGreaterThan(2);
    for (const n of groupRows) expect(n).toBeLessThanOrEqual(1000);
    const num = (v: unknown): number | null => (v === null ? null : Number(v));
    const got = rows.map((r) => [
      num(r['offset']),
      r['type'],
      (r['time'] as Date).getTime(),
      r['station_id'],
      num(r['count']),
      num(r['mechanical']),
      r['flag_to'],
    ]);
    const want = events.map((e) => [
      e.offset,
      e.type,
      e.timeSec * 1000,
      'stationId' in e ? e.stationId : null,
      e.type === 'rented' || e.type === 'returned' ? e.count : null,
      'after' in e ? e.after.bikes.mechanical : null,
      e.type === 'status_changed' ? e.to : null,
    ]);
    expect(got).toEqual(want);
  });

  it('state changes as CSV and Parquet, oldest first, equal to the store', async () => {
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.some((c) => c.to === 'locked')).toBe(true);
    // Pages of 3 rows: the windowed walk over the store's newest-first pages is exercised for real.
    const { url: small } = await world.server({ exportRowGroupRows: 3 });
    const csv = await download(
      `${small}/api/v1/exports/state-changes.csv?since=${sinceSec}&until=${untilSec}`,
    );
    expect(csv.res.status).toBe(200);
    const rows = parseCsv<Record<string, string>>(csv.body.toString('utf8'), { columns: true });
    expect(Object.keys(rows[0]!)).toEqual(STATE_CHANGE_COLUMNS.map((c) => c.name));
    expect(rows.map((r) => Number(r['id']))).toEqual(changes.map((c) => c.id));
    rows.forEach((r, i) => {
      const c = changes[i]!;
      expect([r['station_id'], r['from'], r['to'], r['detector'], r['reason']]).toEqual([
        c.stationId,
        c.from,
        c.to,
        c.detector,
        c.reason,
      ]);
      expect(Number(r['confidence'])).toBe(c.confidence);
      expect(r['evidence'] === '' ? null : JSON.parse(r['evidence']!)).toEqual(c.evidence);
    });

    const pq = await download(
      `${small}/api/v1/exports/state-changes.parquet?since=${sinceSec}&until=${untilSec}`,
    );
    const { rows: pqRows, groupRows } = await readParquet(pq.body);
    for (const n of groupRows) expect(n).toBeLessThanOrEqual(3);
    expect(pqRows.map((r) => Number(r['id']))).toEqual(changes.map((c) => c.id));
    pqRows.forEach((r, i) => {
      const c = changes[i]!;
      expect(r['to']).toBe(c.to);
      expect(r['confidence']).toBe(c.confidence);
      expect(Number(r['time_sec'])).toBe(c.timeSec);
      expect(r['expected']).toBe(c.evidence?.expected ?? null);
    });
  });

  it('local dates as bounds', async () => {
    const day = rfc3339(world.lastDocSec - DAY_SEC).slice(0, 10);
    const { res, body } = await download(`${url}/api/v1/exports/events.csv?since=${day}&until=${day}T12:00`);
    expect(res.status).toBe(200);
    const from = parseTimeParam(day, 'since', TIMEZONE);
    const to = parseTimeParam(`${day}T12:00`, 'until', TIMEZONE);
    const rows = parseCsv<Record<string, string>>(body.toString('utf8'), { columns: true });
    const expected = (await world.store.log.read(0, 10_000_000)).filter(
      (e) => e.timeSec >= from && e.timeSec < to,
    );
    expect(rows.length).toBe(expected.length);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('clear 400s for bad ranges, missing bounds and the row limit', async () => {
    const err = async (path: string) => {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return (await res.json()) as { code: string; message: string; param?: string };
    };
    expect(await err(`/api/v1/exports/events.csv?since=${untilSec}&until=${sinceSec}`)).toMatchObject({
      code: 'invalid_range',
      param: 'until',
    });
    expect(await err(`/api/v1/exports/events.parquet?since=soon&until=${untilSec}`)).toMatchObject({
      code: 'invalid_parameter',
      param: 'since',
    });
    const long = await err(`/api/v1/exports/state-changes.csv?since=2025-01-01&until=2025-06-01`);
    expect(long).toMatchObject({ code: 'invalid_range' });
    expect(long.message).toContain('at most 31 days');
    expect(await err(`/api/v1/exports/events.csv?since=${sinceSec}`)).toMatchObject({
      code: 'missing_parameter',
      param: 'until',
    });
    expect(await err(`/api/v1/exports/events.csv?since=${sinceSec}&until=${untilSec}&limit=5`)).toMatchObject(
      {
        code: 'unknown_parameter',
      },
    );

    const { url: limited } = await world.server({ exportMaxRows: 100 });
    const over = await fetch(`${limited}/api/v1/exports/events.csv?since=${sinceSec}&until=${untilSec}`);
    expect(over.status).toBe(400);
    const body = (await over.json()) as { code: string; message: string };
    expect(body.code).toBe('invalid_range');
    expect(body.message).toContain('more than 100 events');
    // Under the limit, the same server answers.
    // Under the limit, the same server answers: one document's events (its 1-hour neighbours are
    // scanned too, and counted exactly once the scan alone cannot tell).
    const t0 = events[0]!.timeSec;
    const oneDoc = events.filter((e) => e.timeSec === t0).length;
    expect(oneDoc).toBeLessThanOrEqual(100);
    const ok = await download(`${limited}/api/v1/exports/events.csv?since=${t0}&until=${t0 + 1}`);
    expect(parseCsv(ok.body.toString('utf8'), { columns: true })).toHaveLength(oneDoc);
    expect(ok.res.status).toBe(200);
    // The limit is inclusive: exactly as many state changes as allowed is fine, one more is not.
    const n = changes.length;
    const { url: exact } = await world.server({ exportMaxRows: n });
    const atLimit = await download(
      `${exact}/api/v1/exports/state-changes.csv?since=${sinceSec}&until=${untilSec}`,
    );
    expect(atLimit.res.status).toBe(200);
    expect(parseCsv(atLimit.body.toString('utf8'), { columns: true })).toHaveLength(n);
    const { url: tight } = await world.server({ exportMaxRows: n - 1 });
    const overChanges = await fetch(
      `${tight}/api/v1/exports/state-changes.parquet?since=${sinceSec}&until=${untilSec}`,
    );
    expect(overChanges.status).toBe(400);
    expect(((await overChanges.json()) as { message: string }).message).toContain(
      `more than ${(n - 1).toLocaleString('en')} state changes`,
    );
  });
});
