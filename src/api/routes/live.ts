/**
 * GET /live — Server-Sent Events: `state-change` (one per change, as it is committed) and
 * `stations` (counts of the stations that changed since the previous snapshot, plus the totals
 * per state), so an open page updates without reloading.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { contextOf, type ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { countByState } from '../snapshot.js';

const MAX_CLIENTS = 2000;
const HEARTBEAT_MS = 25_000;
const REFRESH_MS = 1_000;

/** The SSE clients of one system and the subscriptions that feed them. */
class LiveChannel {
  readonly clients = new Set<ServerResponse>();
  private readonly off: (() => void)[] = [];

  constructor(ctx: ApiContext) {
    this.off.push(
      ctx.live.subscribe((m) => {
        if (m.kind !== 'state_change' || m.change.system !== ctx.systemId) return;
        void ctx.snapshots.current().then(
          (snap) => {
            const v = snap.byId.get(m.change.stationId);
            this.broadcast('state-change', {
              ...m.change,
              code: v?.code ?? m.change.stationId,
              name: v?.name ?? null,
            });
          },
          () => undefined,
        );
      }),
      ctx.snapshots.onDeltas((deltas, snap) => {
        this.broadcast('stations', {
          version: snap.version,
          timeSec: snap.timeSec,
          counts: countByState(snap.views),
          stations: deltas,
        });
      }),
    );
    // Contexts refreshed from the store (serve) only learn news when someone asks: keep asking
    // while clients listen.
    const refresh = ctx.refresh;
    if (refresh) {
      const timer = setInterval(() => {
        if (this.clients.size > 0) void refresh();
      }, REFRESH_MS);
      timer.unref();
      this.off.push(() => clearInterval(timer));
    }
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) if (!res.writableEnded) res.write(frame);
  }

  close(): void {
    for (const off of this.off) off();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

export function liveRoutes(app: FastifyInstance, base: ApiContext): void {
  const channels = new Map<ApiContext, LiveChannel>();
  const channelOf = (ctx: ApiContext): LiveChannel => {
    let ch = channels.get(ctx);
    if (!ch) channels.set(ctx, (ch = new LiveChannel(ctx)));
    return ch;
  };
  const clientCount = (): number => {
    let n = 0;
    for (const ch of channels.values()) n += ch.clients.size;
    return n;
  };
  // The default system's channel exists from the start (as before), the others on first use.
  channelOf(base);
  const heartbeat = setInterval(() => {
    for (const ch of channels.values())
      for (const res of ch.clients) if (!res.writableEnded) res.write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  app.addHook('onClose', (_instance, done) => {
    clearInterval(heartbeat);
    for (const ch of channels.values()) ch.close();
    channels.clear();
    done();
  });

  app.get(
    '/live',
    {
      compress: false,
      schema: {
        summary: 'Server-Sent Events: `state-change` and `stations` (changed counts) messages',
        tags: ['live'],
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      if (clientCount() >= MAX_CLIENTS)
        throw new ApiError('not_ready', 'Too many live clients; retry later.');
      const ctx = contextOf(req, base);
      const { clients } = channelOf(ctx);
      const snap = await ctx.snapshots.current();
      // Keep the security headers set by the hooks: after hijack Fastify sends nothing itself.
      const headers: Record<string, string | number | string[]> = {};
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // nginx: do not buffer the stream
      });
      res.write(
        `retry: 5000\nevent: hello\ndata: ${JSON.stringify({ version: snap.version, timeSec: snap.timeSec })}\n\n`,
      );
      clients.add(res);
      req.raw.on('close', () => clients.delete(res));
    },
  );
}
