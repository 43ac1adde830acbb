/**
 * The parsers on real recorded feeds from ../shared: Vélib' (Paris, Oct 2025) and Bay Wheels
 * (San Francisco, Lyft GBFS 1.x, Apr–May 2023).
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseStationInformation, parseStationStatus, parseSystemInformation } from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = path.resolve(repoRoot, '../shared');
const velibDir = path.join(shared, 'data/velib-2025-10');
const bayDir = path.join(shared, 'data/baywheels-2023-04');
const haveShared = existsSync(velibDir) && existsSync(bayDir);
if (!haveShared) console.log(`real-data tests skipped: ${shared} (shared recorded feeds) is absent`);

type Raw = Record<string, unknown> & { data: { stations: Record<string, unknown>[] } };

function readJson(file: string): Raw {
  return JSON.parse(readFileSync(file, 'utf8')) as Raw;
}

/** First or last line of a brotli JSON Lines file, streamed (the status file exceeds max string length). */
async function jsonLine(file: string, which: 'first' | 'last'): Promise<{ text: string; count: number }> {
  const input = createReadStream(file).pipe(createBrotliDecompress());
  const lines = createInterface({ input, crlfDelay: Infinity });
  let text = '';
  let count = 0;
  for await (const line of lines) {
    text = line;
    count++;
    if (which === 'first') break;
  }
  input.destroy();
  return { text, count };
}

describe.skipIf(!haveShared)('Vélib snapshot', () => {
  const statusRaw = haveShared ? readJson(path.join(velibDir, 'station_status.json')) : null;
  const infoRaw = haveShared ? readJson(path.join(velibDir, 'station_information.json')) : null;

  it('parses every one of the 1,495 stations of station_status with no rejection', () => {
    const result = parseStationStatus(statusRaw);
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.rejections).toEqual([]);
    expect(result.doc.stations).toHaveLength(1495);
    expect(result.doc.lastUpdatedSec).toBe(statusRaw!.lastUpdatedOther);
    expect(result.doc.ttlSec).toBe(3600);
    expect(result.doc.version).toBeNull();
    // Every station keeps its bikes: the types add up to num_bikes_available.
    result.doc.stations.forEach((s, i) => {
      const raw = statusRaw!.data.stations[i]!;
      expect(s.stationId).toBe(String(raw.station_id));
      expect(s.bikes.mechanical + s.bikes.electric + s.bikes.other).toBe(raw.num_bikes_available);
    });
  });

  it('normalises station 16107 exactly as the raw file says', () => {
    const raw = statusRaw!.data.stations.find((s) => s.stationCode === '16107')!;
    const types = raw.num_bikes_available_types as Record<string, number>[];
    const result = parseStationStatus(statusRaw);
    if (!result.ok) throw new Error(result.rejection.message);
    const s = result.doc.stations.find((x) => x.code === '16107');
    expect(s).toEqual({
      stationId: String(raw.station_id),
      code: '16107',
      bikes: { mechanical: types[0]!.mechanical, electric: types[1]!.ebike, other: 0 },
      bikesDisabled: 0,
      docksAvailable: raw.num_docks_available,
      docksDisabled: 0,
      isInstalled: raw.is_installed === 1,
      isRenting: raw.is_renting === 1,
      isReturning: raw.is_returning === 1,
      lastReportedSec: raw.last_reported,
    });
    expect(s!.bikes.mechanical + s!.bikes.electric).toBeGreaterThan(0);
  });

  it('keeps 11-digit integer ids exact and reads 0/1 flags', () => {
    const result = parseStationStatus(JSON.stringify(statusRaw));
    if (!result.ok) throw new Error(result.rejection.message);
    const long = statusRaw!.data.stations.find((s) => String(s.station_id).length === 11)!;
    expect(result.doc.stations.some((s) => s.stationId === String(long.station_id))).toBe(true);
    const closedRaw = statusRaw!.data.stations.find((s) => s.is_installed === 0)!;
    const closed = result.doc.stations.find((s) => s.stationId === String(closedRaw.station_id))!;
    expect([closed.isInstalled, closed.isRenting]).toEqual([false, closedRaw.is_renting === 1]);
  });

  it('parses every station of station_information, code from stationCode', () => {
    const result = parseStationInformation(infoRaw);
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.rejections).toEqual([]);
    expect(result.doc.stations).toHaveLength(infoRaw!.data.stations.length);
    const raw = infoRaw!.data.stations[0]!;
    expect(result.doc.stations[0]).toEqual({
      stationId: String(raw.station_id),
      code: raw.stationCode,
      name: raw.name,
      lat: raw.lat,
      lon: raw.lon,
      capacity: raw.capacity,
    });
  });

  it('checks status counts against information capacities without rejecting real stations', () => {
    const info = parseStationInformation(infoRaw);
    if (!info.ok) throw new Error(info.rejection.message);
    const capacities = new Map(info.doc.stations.map((s) => [s.stationId, s.capacity]));
    const result = parseStationStatus(statusRaw, { capacities });
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.rejections).toEqual([]);
  });
});

describe.skipIf(!haveShared)('Bay Wheels archive (Lyft GBFS 1.x)', () => {
  function checkLyftDocument(text: string): void {
    const raw = JSON.parse(text) as Raw;
    const result = parseStationStatus(raw);
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.rejections).toEqual([]);
    expect(result.doc.lastUpdatedSec).toBe(raw.last_updated);
    expect(result.doc.stations.length).toBe(raw.data.stations.length);
    expect(result.doc.stations.length).toBeGreaterThan(400);
    result.doc.stations.forEach((s, i) => {
      const r = raw.data.stations[i] as Record<string, number | string>;
      expect(s.stationId).toBe(r.station_id);
      expect(s.bikes).toEqual({
        mechanical: (r.num_bikes_available as number) - (r.num_ebikes_available as number),
        electric: r.num_ebikes_available,
        other: 0,
      });
      expect([s.bikesDisabled, s.docksAvailable, s.docksDisabled]).toEqual([
        r.num_bikes_disabled,
        r.num_docks_available,
        r.num_docks_disabled,
      ]);
      expect(s.isInstalled).toBe(r.is_installed === 1);
      expect(s.isRenting).toBe(r.is_renting === 1 && r.station_status !== 'out_of_service');
      // Lyft's 86400 means "never reported": not a time.
      expect(s.lastReportedSec).toBe(r.last_reported === 86400 ? null : r.last_reported);
    });
  }

  it('parses the first station_status document completely', async () => {
    const { text } = await jsonLine(path.join(bayDir, 'station_status.jsonl.br'), 'first');
    checkLyftDocument(text);
  });

  it('parses the last station_status document completely (streams the whole archive)', async () => {
    const { text, count } = await jsonLine(path.join(bayDir, 'station_status.jsonl.br'), 'last');
    expect(count).toBe(5647);
    checkLyftDocument(text);
  });

  it('parses the first station_information and the system_information documents', async () => {
    const { text } = await jsonLine(path.join(bayDir, 'station_information.jsonl.br'), 'first');
    const raw = JSON.parse(text) as Raw;
    const result = parseStationInformation(text);
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.rejections).toEqual([]);
    expect(result.doc.stations.length).toBe(raw.data.stations.length);
    const first = raw.data.stations[0]!;
    expect(result.doc.stations[0]).toEqual({
      stationId: first.station_id,
      code: first.short_name,
      name: first.name,
      lat: first.lat,
      lon: first.lon,
      capacity: first.capacity,
    });

    const system = parseSystemInformation(
      (await jsonLine(path.join(bayDir, 'system_information.jsonl.br'), 'first')).text,
    );
    if (!system.ok) throw new Error(system.rejection.message);
    expect(system.doc).toMatchObject({ timezone: 'America/Los_Angeles', language: 'en', name: 'Bay Wheels' });
  });
});
