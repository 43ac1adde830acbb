/**
 * `dockwatch simulate`: serve a synthetic GBFS feed on localhost until SIGINT / SIGTERM.
 * Thin: parses its options into sim/'s, prints the URLs, waits. The lead wires it into commander.
 */
import { existsSync } from 'node:fs';
import { createLogger, type Logger } from '../log/index.js';
import { parseFaultFlag, startSimulator, type StationSource } from '../sim/index.js';

export interface SimulateCliOptions {
  /** Default 8090; 0 = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** "synthetic" (default), "synthetic:N" (N stations), or a station_information file / directory. */
  stations?: string;
  seed?: string | number;
  /** Simulated seconds per real second; default 1. */
  speed?: number;
  /** Simulated start: ISO 8601 or POSIX seconds; default now. */
  start?: string;
  /** Simulated seconds per model step; default 60. */
  stepSec?: number;
  timezone?: string;
  /** Fault flags, e.g. "locked:station=16107,start=+2h,duration=6h" (see parseFaultFlag). */
  faults?: string[];
  logger?: Logger;
  /** Where to print the URLs; default stdout. */
  print?: (line: string) => void;
  /** Resolves when the server should stop; default: first SIGINT or SIGTERM. */
  until?: Promise<unknown>;
}

export function parseStationSource(text: string | undefined): StationSource | undefined {
  if (text === undefined || text === 'synthetic') return undefined;
  const m = /^synthetic:(\d+)$/.exec(text);
  if (m) return { synthetic: { count: Number(m[1]) } };
  if (!existsSync(text))
    throw new Error(`--stations: "${text}" is neither "synthetic[:N]" nor an existing file or directory`);
  return { path: text };
}

export function parseStartSec(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`--start: "${text}" is neither POSIX seconds nor an ISO 8601 date`);
  return Math.floor(ms / 1000);
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function runSimulate(opts: SimulateCliOptions = {}): Promise<void> {
  const logger = opts.logger ?? createLogger();
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const faults = (opts.faults ?? []).map((f) => parseFaultFlag(f));
  const startSec = parseStartSec(opts.start);
  const stations = parseStationSource(opts.stations);
  const sim = await startSimulator({
    port: opts.port ?? 8090,
    host: opts.host ?? '127.0.0.1',
    ...(stations ? { stations } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.speed !== undefined ? { speed: opts.speed } : {}),
    ...(startSec !== undefined ? { startSec } : {}),
    ...(opts.stepSec !== undefined ? { simStepSec: opts.stepSec } : {}),
    ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}),
    faults,
    logger,
  });
  const state = sim.state();
  print(
    `dockwatch simulator: ${state.stations} stations, start ${new Date(state.startSec * 1000).toISOString()}, speed ×${state.speed}`,
  );
  print(`  GBFS 2.3   ${sim.url}/gbfs.json`);
  print(`  Vélib'     ${sim.url}/velib/gbfs.json`);
  print(
    `  control    ${sim.url}/control/state  (POST /control/faults, DELETE /control/faults/:id, POST /control/clock)`,
  );
  if (state.faults.length > 0) print(`  faults     ${state.faults.length} scheduled`);
  await (opts.until ?? untilSignal());
  await sim.close();
  logger.info('simulator stopped');
}
