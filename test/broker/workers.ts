/** Process workers as real child processes (kill -9 needs a process). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NATS_URL } from './nats.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const main = fileURLToPath(new URL('./role-main.ts', import.meta.url));

export interface Worker {
  id: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function startWorker(
  id: string,
  opts: { database: string; stream: string; leaseTtlSec: number; extra?: string[] },
): Worker {
  const args = [
    '--import',
    'tsx',
    main,
    'process',
    '--database',
    opts.database,
    '--nats-url',
    NATS_URL,
    '--stream',
    opts.stream,
  ];
  args.push(
    '--worker-id',
    id,
    '--lease-ttl-sec',
    String(opts.leaseTtlSec),
    '--min-history-days',
    '1',
    // The reference run (fixture.ts embeddedRun) uses the seed detector, whatever the default is.
    '--detector',
    'seed',
    '--log-level',
    'info',
    ...(opts.extra ?? []),
  );
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DOCKWATCH_LOG_LEVEL: 'info' },
  });
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (err += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { id, child, exited, stderr: () => err };
}
