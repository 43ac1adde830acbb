/**
 * Stopping and starting the machine's real PostgreSQL and NATS servers, for the restart tests.
 * Both need root and the Debian tools (as in CI); the tests skip, saying why, without them.
 */
import { execFileSync } from 'node:child_process';
import { pgUp } from '../storage/postgres-fixture.js';
import { natsUp } from './nats.js';

export const NATS_BIN = '/usr/sbin/nats-server';

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const isRoot = process.getuid?.() === 0;

export const canRestartPg = pgUp && isRoot && hasCommand('pg_ctlcluster');
if (pgUp && !canRestartPg)
  console.warn('[test/broker] PostgreSQL restart tests skipped: need root and pg_ctlcluster');

export const canRestartNats = natsUp && isRoot && hasCommand('start-stop-daemon');
if (natsUp && !canRestartNats)
  console.warn('[test/broker] NATS restart test skipped: needs root and start-stop-daemon');

/** `pg_ctlcluster --skip-systemctl-redirect <version> main <action>` on the machine's one cluster. */
export function pgCluster(action: 'start' | 'stop' | 'restart'): void {
  const version = execFileSync('ls', ['/etc/postgresql']).toString().trim().split('\n')[0]!;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'ignore' });
}

/** Starts the NATS server as CI does (JetStream, its store under /var/lib/nats-server). */
export function startNats(): void {
  execFileSync('start-stop-daemon', [
    '--start',
    '--oknodo',
    '--background',
    '--exec',
    NATS_BIN,
    '--',
    '-a',
    '127.0.0.1',
    '-p',
    '4222',
    '-js',
    '-sd',
    '/var/lib/nats-server',
    '-l',
    '/var/log/nats-server.log',
  ]);
}

/** Stops the NATS server and waits for it to be gone. */
export function stopNats(): void {
  execFileSync('start-stop-daemon', ['--stop', '--retry', '10', '--exec', NATS_BIN]);
}
