/**
 * Bytes of SQLite file one browser push subscription takes (row + its endpoint index), to size
 * DOCKWATCH_PUSH_MAX_SUBSCRIPTIONS (docs/notifications.md, "Abuse limits"). Two shapes: the
 * largest the API accepts (2048-character endpoint, 100 favourite stations) and a typical one
 * (an endpoint of about 200 characters, as push services hand out, and 5 favourites). The file
 * is checkpointed (TRUNCATE) before each measure, so the WAL does not count.
 *
 *   npx tsx bench/push-subscription-size.ts [--rows 2000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { openSqliteNotifyStore } from '../src/notify/index.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000' } } });
const rows = Number(values.rows);

const p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url');
const auth = Buffer.alloc(16, 1).toString('base64url');

async function bytesPerRow(endpointLength: number, stations: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockwatch-push-size-'));
  const file = path.join(dir, 'notify.sqlite');
  try {
    const fileSize = (): number => {
      const db = new Database(file);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      return statSync(file).size;
    };
    let store = await openSqliteNotifyStore(file);
    await store.close();
    const before = fileSize();
    store = await openSqliteNotifyStore(file);
    const ids = Array.from({ length: stations }, (_, k) => String(213_688_169 + k));
    const codes = Array.from({ length: stations }, (_, k) => String(16_107 + k));
    for (let i = 0; i < rows; i++) {
      const head = `https://push.example/${String(i).padStart(8, '0')}/`;
      await store.upsertPushSubscription(
        {
          system: 'velib',
          endpoint: head + 'x'.repeat(endpointLength - head.length),
          p256dh,
          auth,
          stationIds: ids,
          stationCodes: codes,
          lang: 'fr',
        },
        Date.now(),
      );
    }
    await store.close();
    return Math.round((fileSize() - before) / rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const largest = await bytesPerRow(2048, 100);
const typical = await bytesPerRow(200, 5);
console.log(JSON.stringify({ rows, largestBytesPerRow: largest, typicalBytesPerRow: typical }));
