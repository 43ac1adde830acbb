import { createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { replay, type ReplaySummary } from '../pipeline/index.js';
import { openStore, type Store } from '../storage/index.js';

const DEFAULT_REPLAY_DATABASE = './data/replay.sqlite';
/**
 * A replay writes a fresh file front to back and reads back little: a 4 MiB page cache instead of
 * the 16 MiB default keeps the peak RSS lower (goal ≤ 200 MB, docs/performance.md §2).
 */
const REPLAY_SQLITE_CACHE_KIB = 4096;

export async function runReplayCommand(
  paths: string[],
  opts: Record<string, string | boolean | undefined>,
): Promise<void> {
  const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
  const config = loadConfig(
    {
      database: str('database') ?? DEFAULT_REPLAY_DATABASE,
      detector: str('detector'),
      minHistoryDays: str('minHistoryDays'),
      timezone: str('timezone'),
      systemId: str('system'),
      logLevel: str('logLevel') ?? 'warn',
    },
    process.env,
  );
  const gapSec = str('gapSec');
  if (gapSec !== undefined && !(Number(gapSec) > 0))
    throw new Error(`--gap-sec must be a number of seconds > 0, got "${gapSec}"`);
  const logger = createLogger({ level: config.logLevel, pretty: false });
  if (opts['fresh'] === true)
    for (const suffix of ['', '-wal', '-shm']) rmSync(config.database + suffix, { force: true });
  const store = await openStore(config.database, { logger, sqliteCacheKiB: REPLAY_SQLITE_CACHE_KIB });

  const tty = process.stderr.isTTY && opts['json'] !== true;
  const bar = tty
    ? new SingleBar(
        { format: 'replay |{bar}| {percentage}% | {documents} documents | ETA {eta_formatted}' },
        Presets.shades_classic,
      )
    : null;
  bar?.start(100, 0, { documents: 0 });
  const summary = await replay({
    paths,
    store,
    detector: config.detector,
    minHistoryDays: config.minHistoryDays,
    ...(config.systemId ? { system: config.systemId } : {}),
    ...(config.timezone ? { timeZone: config.timezone } : {}),
    ...(gapSec ? { gapThresholdSec: Number(gapSec) } : {}),
    logger,
    readerThread: opts['readerThread'] !== false,
    onProgress: bar
      ? (p) =>
          bar.update(p.totalBytes > 0 ? Math.floor((100 * p.bytes) / p.totalBytes) : 0, {
            documents: p.documents,
          })
      : undefined,
  });
  bar?.update(100);
  bar?.stop();

  const stateChangesFile = str('stateChanges');
  if (stateChangesFile) await writeStateChanges(store, summary.system, stateChangesFile);
  await store.close();
  process.stdout.write(
    opts['json'] === true ? JSON.stringify(summary) + '\n' : formatSummary(summary, config.database),
  );
}

/**
 * Every state change of the run as JSON Lines, oldest first, in a stable format outside tools can
 * score. Written from the store, so an interrupted-then-resumed replay writes the same file.
 */
async function writeStateChanges(store: Store, system: string, file: string): Promise<void> {
  const codes = new Map((await store.listStationInfo(system)).map((s) => [s.stationId, s.code]));
  const pages = [];
  let beforeId: number | undefined;
  for (;;) {
    const page = await store.listStateChanges({
      system,
      limit: 10_000,
      ...(beforeId !== undefined ? { beforeId } : {}),
    });
    if (page.length === 0) break;
    pages.push(page);
    beforeId = page[page.length - 1]!.id;
  }
  const out = createWriteStream(file);
  for (const page of pages.reverse()) {
    for (let i = page.length - 1; i >= 0; i--) {
      const c = page[i]!;
      const line = JSON.stringify({
        time: new Date(c.timeSec * 1000).toISOString(),
        system: c.system,
        station_id: c.stationId,
        station_code: codes.get(c.stationId) ?? c.stationId,
        from: c.from,
        to: c.to,
        detector: c.detector,
        confidence: Math.round(c.confidence * 1000) / 1000,
      });
      if (!out.write(line + '\n')) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
}

function formatSummary(s: ReplaySummary, database: string): string {
  const iso = (sec: number | null): string => (sec === null ? '—' : new Date(sec * 1000).toISOString());
  const rejected = Object.entries(s.rejected);
  const lines = [
    `replay of ${s.system} (${s.timeZone}) done in ${s.elapsedSec.toFixed(1)} s`,
    `  period              ${iso(s.firstDocumentSec)} → ${iso(s.lastDocumentSec)}`,
    `  documents           ${s.documents}${s.resumedSkipped > 0 ? ` (+${s.resumedSkipped} already done by an earlier run: resumed; --fresh starts over)` : ''}`,
    `  station observations ${s.stationObservations}`,
    `  events              ${s.events}`,
    `  state changes       ${s.stateChanges}`,
    `  rejected inputs     ${rejected.length === 0 ? 0 : rejected.map(([k, v]) => `${k}: ${v}`).join(', ')}`,
    `  archive errors      ${s.archiveErrors}`,
    `  blind after         ${s.gapThresholdSec} s without a document`,
    `  throughput          ${Math.round(s.observationsPerSec).toLocaleString('en')} station observations/s`,
    `  database            ${database}`,
  ];
  return lines.join('\n') + '\n';
}
