/**
 * Not a test: a quick look at what parseStationStatus adds to JSON.parse on the real Bay Wheels
 * archive. Run: `npx tsx src/feed/parse/timing-check.ts [maxDocs]`.
 * The archive decompresses to more than Node's maximum string length, so it is streamed line by line.
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';
import { parseStationStatus } from './status.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const file = path.resolve(repoRoot, '../shared/data/baywheels-2023-04/station_status.jsonl.br');

async function main(): Promise<void> {
  if (!existsSync(file)) {
    console.log(`skipped: ${file} is absent`);
    return;
  }
  const maxDocs = Number(process.argv[2] ?? Infinity);
  const lines = createInterface({
    input: createReadStream(file).pipe(createBrotliDecompress()),
    crlfDelay: Infinity,
  });
  let docs = 0;
  let stations = 0;
  let rejected = 0;
  let jsonNs = 0n;
  let normaliseNs = 0n;
  for await (const line of lines) {
    const t0 = process.hrtime.bigint();
    const parsed: unknown = JSON.parse(line);
    const t1 = process.hrtime.bigint();
    const result = parseStationStatus(parsed);
    const t2 = process.hrtime.bigint();
    jsonNs += t1 - t0;
    normaliseNs += t2 - t1;
    if (result.ok) {
      stations += result.doc.stations.length;
      rejected += result.rejections.length;
    } else {
      rejected++;
    }
    if (++docs >= maxDocs) break;
  }
  const jsonSec = Number(jsonNs) / 1e9;
  const normaliseSec = Number(normaliseNs) / 1e9;
  console.log(`${docs} documents, ${stations} stations, ${rejected} rejections`);
  console.log(`JSON.parse alone:   ${jsonSec.toFixed(2)} s (${Math.round(stations / jsonSec)} stations/s)`);
  console.log(
    `parseStationStatus: ${normaliseSec.toFixed(2)} s (+${((100 * normaliseSec) / jsonSec).toFixed(1)} %)`,
  );
  console.log(`both: ${Math.round(stations / (jsonSec + normaliseSec))} stations/s`);
}

await main();
