import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, applyMigrations } from '../src/storage/sqlite/index.js';
const dir = mkdtempSync(path.join(tmpdir(), 'micro-'));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const db = new Database(path.join(dir, 'x.sqlite')); db.pragma('journal_mode=WAL'); db.pragma('synchronous=NORMAL');
applyMigrations(db, MIGRATIONS);
db.exec("INSERT INTO systems(key) VALUES ('velib')");
const ins = db.prepare('INSERT INTO event_batches (first_offset, event_count, system_id, time_sec, events) VALUES (?, ?, ?, ?, ?)');
const selAt = db.prepare('SELECT events FROM event_batches WHERE system_id = ? AND time_sec = ?').pluck();
const selNext = db.prepare('SELECT first_offset + event_count FROM event_batches ORDER BY first_offset DESC LIMIT 1').pluck();
const buf = Buffer.alloc(1 << 16, 7);
const D = 5000;
let next = 1;
const tx = db.transaction((t: number, what: number) => {
  if (what & 1) selNext.get();
  if (what & 2) selAt.all(1, t);
  if (what & 4) { ins.run(next, 148, 1, t, buf.subarray(0, 1500)); next += 148; }
});
for (const [label, what] of [['empty tx', 0], ['selNext', 1], ['selAt', 2], ['insert', 4], ['all', 7]] as const) {
  const c0 = cpu();
  for (let d = 0; d < D; d++) tx.immediate(1_700_000_000 + next, what);
  console.log(label.padEnd(12), ((cpu() - c0) / D * 1000).toFixed(1), 'µs CPU/tx');
}
const c0 = cpu(); for (let d = 0; d < D * 148; d++) { const o = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 }; const x = { ...o, offset: d }; if (x.offset < 0) console.log(x); }
console.log('spread', ((cpu() - c0) / (D * 148) * 1000).toFixed(3), 'µs');
