import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../src/storage/sqlite/index.js';
const dir = mkdtempSync(path.join(tmpdir(), 'micro-'));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const D = 1440, PER = 148;
const store = openSqliteStore({ path: path.join(dir, 'store.sqlite') }); await store.migrate();
const evs = (t: number) => Array.from({ length: PER }, (_, k) => ({ system: 'velib', timeSec: t, stationId: String(100000 + (k * 7) % 1500), type: k & 1 ? 'returned' : 'rented', bikeType: k % 3 ? 'mechanical' : 'electric', count: 1, after: { bikes: { mechanical: 3, electric: 2, other: 0 }, docksAvailable: 10, bikesDisabled: 0, docksDisabled: 0 } }) as any);
const st = (id: string) => ({ stationId: id, code: '12345', bikes: { mechanical: 3, electric: 2, other: 0 }, bikesDisabled: 0, docksAvailable: 10, docksDisabled: 0, isInstalled: true, isRenting: true, isReturning: true, lastReportedSec: 1760000000 });
const caps = new Map(Array.from({ length: 1500 }, (_, i) => [String(100000 + i), 20] as [string, number]));
const changed = Array.from({ length: 120 }, (_, k) => st(String(100000 + (k * 7) % 1500)));
async function run(label: string, base: number, f: (d: number, t: number, e: any[]) => Promise<unknown>) {
  const docs = Array.from({ length: D }, (_, d) => evs(base + d * 60));
  const c0 = cpu();
  for (let d = 0; d < D; d++) await f(d, base + d * 60, docs[d]!);
  console.log(label.padEnd(40), ((cpu() - c0) / D * 1000).toFixed(0), 'µs CPU/doc');
}
await run('log.append', 1_700_000_000, (d, t, e) => store.log.append(e));
await run('commitDiff no events, 120 changed', 1_710_000_000, (d, t) => store.commitDiff('velib', [], { lastDocumentSec: t, changed, removed: [], capacities: caps }));
await run('commitDiff no events, no changed, caps', 1_720_000_000, (d, t) => store.commitDiff('velib', [], { lastDocumentSec: t, changed: [], removed: [], capacities: caps }));
await run('commitDiff no events, nothing', 1_730_000_000, (d, t) => store.commitDiff('velib', [], { lastDocumentSec: t, changed: [], removed: [], capacities: new Map() }));
await run('commitOffset', 1_740_000_000, (d) => store.log.commitOffset('x', d));
await run('commitDiff full', 1_750_000_000, (d, t, e) => store.commitDiff('velib', e, { lastDocumentSec: t, changed, removed: [], capacities: caps }));
await run('nothing (await only)', 1_750_000_000, () => Promise.resolve());
