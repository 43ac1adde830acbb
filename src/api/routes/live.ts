/**
 * GET /live — Server-Sent Events: `state-change` (one per change, as it is committed) and
 * `stations` (counts of the stations that changed since the previous snapshot, plus the totals
 * per state), so an open page updates without reloading.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { countByState } from '../snapshot.js';

const MAX_CLIENTS = 2000;
const HEARTBEAT_MS = 25_000;

export function liveRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const clients = new Set<ServerResponse>();

  const broadcast = (event: string, data: unknown): void => {
    if (clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of clients) if (!res.writableEnded) res.write(frame);
  };

  const offBus = ctx.live.subscribe((m) => {
    if (m.kind !== 'state_change' || m.change.system !== ctx.systemId) return;
    void ctx.snapshots.current().then(
      (snap) => {
        const v = snap.byId.get(m.change.stationId);
        broadcast('state-change', {
          ...m.change,
          code: v?.code ?? m.change.stationId,
          name: v?.name ?? null,
        });
      },
      () => undefined,
    );
  });
  const offDeltas = ctx.snapshots.onDeltas((deltas, snap) => {
    broadcast('stations', {
      version: snap.version,
      timeSec: snap.timeSec,
      counts: countByState(snap.views),
      stations: deltas,
    });
  });
  const heartbeat = setInterval(() => {
    for (const res of clients) if (!res.writableEnded) res.write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  app.addHook('onClose', (_instance, done) => {
    offBus();
    offDeltas();
    clearInterval(heartbeat);
    for (const res of clients) res.end();
    clients.clear();
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
      if (clients.size >= MAX_CLIENTS) throw new ApiError('not_ready', 'Too many live clients; retry later.');
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
