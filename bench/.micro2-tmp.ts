import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../src/storage/sqlite/index.js';
const dir = mkdtempSync(path.join(tmpdir(), 'micro-'));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const D = 5000, PER = 148;
const store = openSqliteStore({ path: path.join(dir, 'store.sqlite') }); await store.migrate();
const evs = (t: number) => Array.from({ length: PER }, (_, k) => ({ system: 'velib', timeSec: t, stationId: String(100000 + (k * 7) % 1500), type: k & 1 ? 'returned' : 'rented', bikeType: k % 3 ? 'mechanical' : 'electric', count: 1, after: { bikes: { mechanical: 3, electric: 2, other: 0 }, docksAvailable: 10, bikesDisabled: 0, docksDisabled: 0 } }) as any);
const docs = Array.from({ length: D }, (_, d) => evs(1_700_000_000 + d * 60));
const c0 = cpu();
for (let d = 0; d < D; d++) await store.log.append(docs[d]!);
console.log('append', ((cpu() - c0) / D * 1000).toFixed(0), 'µs CPU/doc');
const c1 = cpu(); let n = 0;
for (let o = 0; ; ) { const page = await store.log.read(o, 1000); if (!page.length) break; n += page.length; o = page[page.length - 1]!.offset; }
console.log('read', ((cpu() - c1) / n * 1000).toFixed(2), 'µs CPU/event', n);
