/** Test helpers: start the API on 127.0.0.1 over a seeded store; read an SSE stream. */
import type { FastifyInstance } from 'fastify';
import { createApiServer, createLiveBus, type LiveBus } from '../../src/api/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Store } from '../../src/storage/index.js';
import { SYSTEM, TIMEZONE } from './fixture.js';

export interface Running {
  app: FastifyInstance;
  live: LiveBus;
  base: string;
}

export async function startApi(
  store: Store,
  extra: { webRoot?: string; tileUrl?: string } = {},
): Promise<Running> {
  const live = createLiveBus();
  const app = await createApiServer({
    store,
    systemId: SYSTEM,
    timezone: TIMEZONE,
    pollIntervalSec: 60,
    live,
    logger: silentLogger,
    ...extra,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { app, live, base: `http://127.0.0.1:${addr.port}` };
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Collects SSE events from a real HTTP stream until `until` says stop (or the timeout). */
export async function readSse(
  url: string,
  until: (events: SseEvent[]) => boolean,
  opts: { timeoutMs?: number; onOpen?: () => void | Promise<void> } = {},
): Promise<SseEvent[]> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), opts.timeoutMs ?? 10_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { signal: ctrl.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw new Error(`SSE status ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let opened = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        let data = '';
        for (const line of frame.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (!data) continue;
        events.push({ event, data: JSON.parse(data) });
        if (!opened && event === 'hello') {
          opened = true;
          await opts.onOpen?.();
        }
        if (until(events)) {
          ctrl.abort();
          return events;
        }
      }
    }
  } catch (err) {
    if (!ctrl.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return events;
}
