/** Test helpers: is NATS up, unique stream names. */
import net from 'node:net';

export const NATS_URL = process.env['DOCKWATCH_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** True when something answers the NATS protocol greeting (INFO) at the test URL. */
export async function natsReachable(url = NATS_URL, timeoutMs = 1_500): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 4222) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => done(d.toString('latin1').startsWith('INFO')));
  });
}

export const natsUp = await natsReachable();
if (!natsUp) console.warn(`[test/broker] skipped: no NATS JetStream at ${NATS_URL} (start nats-server -js)`);

let n = 0;
/** A stream name no other test (or test run) uses. */
export function uniqueStream(tag: string): string {
  return `T_${tag}_${process.pid}_${Date.now().toString(36)}_${++n}`.toUpperCase();
}
