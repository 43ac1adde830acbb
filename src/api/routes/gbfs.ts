/**
 * The corrected GBFS feed (2.3 and 3.0): the watched feed with detected locks applied. Each
 * document is serialised and compressed once per data version, then served from memory with its
 * ETag, like GET /stations. Registered under /gbfs (the default system) and /gbfs/systems/:system
 * (any system of the store; links in the documents keep the prefix they were asked under).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  GBFS_FILES,
  GBFS_VERSIONS,
  buildGbfsDocument,
  buildGbfsManifest,
  gbfsPrefix,
  loadGbfsSource,
  requestOrigin,
  resolvePublishOptions,
  type GbfsSource,
  type PublishOptions,
  type ResolvedPublishOptions,
} from '../../publish/index.js';
import { contextOf, prefixedSystem, type ApiContext } from '../context.js';
import { precompute, sendPrecomputed, type PrecomputedBody } from '../precomputed.js';
import { errorResponses } from '../schemas.js';

/** Different Host headers each get their own bodies (their links differ): keep a bounded few. */
const MAX_BODIES = 64;

interface Entry {
  version: number;
  builtAtMs: number;
  source: Promise<GbfsSource>;
  bodies: Map<string, Promise<PrecomputedBody>>;
}

/**
 * One source per LiveBus version, so a lock committed by the pipeline shows in the next request.
 * A stateless `serve` process gets no LiveBus messages: there the source is also re-read once it
 * is half a poll old.
 */
export class GbfsCache {
  private entry: Entry | null = null;
  private readonly maxAgeMs: number;

  constructor(
    private readonly ctx: ApiContext,
    private readonly opts: ResolvedPublishOptions,
  ) {
    this.maxAgeMs = Math.min(30_000, Math.max(1000, (ctx.pollIntervalSec * 1000) / 2));
  }

  body(key: string, build: (src: GbfsSource) => unknown): Promise<PrecomputedBody> {
    const entry = this.current();
    let body = entry.bodies.get(key);
    if (!body) {
      if (entry.bodies.size >= MAX_BODIES) entry.bodies.clear();
      body = entry.source.then((src) => precompute(build(src)));
      entry.bodies.set(key, body);
      // A failed build must not stay cached: the next request tries again.
      body.catch(() => entry.bodies.delete(key));
    }
    return body;
  }

  private current(): Entry {
    const { live } = this.ctx;
    const e = this.entry;
    if (e && e.version === live.version && Date.now() - e.builtAtMs < this.maxAgeMs) return e;
    const source = loadGbfsSource(this.ctx.store, {
      systemId: this.ctx.systemId,
      timezone: this.ctx.timezone,
      language: this.ctx.language,
      ttlSec: this.ctx.pollIntervalSec,
      feedContactEmail: this.opts.feedContactEmail,
      openingHours: this.opts.openingHours,
      knownTimeSec: live.lastSnapshotSec,
    });
    const next: Entry = { version: live.version, builtAtMs: Date.now(), source, bodies: new Map() };
    source.catch((err: unknown) => {
      this.ctx.logger.error({ err }, 'gbfs: could not read the store');
      if (this.entry === next) this.entry = null;
    });
    this.entry = next;
    return next;
  }
}

const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
const gbfsResponse = {
  200: { type: 'object', additionalProperties: true, description: 'A GBFS document (see docs/feeds.md)' },
  ...errorResponses,
} as const;

/** Paths relative to the scope's prefix: /gbfs (default system) or /gbfs/systems/:system. */
export function gbfsRoutes(app: FastifyInstance, base: ApiContext, options: PublishOptions = {}): void {
  const opts = resolvePublishOptions(options);
  // One cache per system; the contexts live as long as the server (SystemContexts keeps them).
  const caches = new WeakMap<ApiContext, GbfsCache>();
  const cacheOf = (ctx: ApiContext): GbfsCache => {
    let cache = caches.get(ctx);
    if (!cache) caches.set(ctx, (cache = new GbfsCache(ctx, opts)));
    return cache;
  };
  const serve = (
    req: FastifyRequest,
    reply: FastifyReply,
    key: string,
    build: (src: GbfsSource, origin: string, prefix: string) => unknown,
  ): Promise<FastifyReply> => {
    const ctx = contextOf(req, base);
    const origin = requestOrigin(req, opts.publicUrl);
    const prefix = gbfsPrefix(prefixedSystem(req));
    return cacheOf(ctx)
      .body(`${origin}${prefix} ${key}`, (src) => build(src, origin, prefix))
      .then((body) => sendPrecomputed(req, reply, body, ctx.dataCacheControl));
  };
  const route = (
    url: string,
    summary: string,
    handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
  ) =>
    app.get(
      url,
      { compress: false, schema: { summary, tags: ['gbfs'], querystring: noQuery, response: gbfsResponse } },
      handler,
    );

  route('/gbfs.json', 'GBFS auto-discovery (the 2.3 gbfs.json) of the corrected feed', (req, reply) =>
    serve(req, reply, '2.3/gbfs', (src, origin, prefix) =>
      buildGbfsDocument('2.3', 'gbfs', src, origin, prefix),
    ),
  );
  route('/manifest.json', 'GBFS 3.0 manifest: the data set and its versions', (req, reply) =>
    serve(req, reply, 'manifest', (src, origin, prefix) => buildGbfsManifest(src, origin, prefix)),
  );
  for (const version of GBFS_VERSIONS) {
    for (const file of GBFS_FILES) {
      route(`/v${version}/${file}.json`, `GBFS ${version} ${file}.json (corrected feed)`, (req, reply) =>
        serve(req, reply, `${version}/${file}`, (src, origin, prefix) =>
          buildGbfsDocument(version, file, src, origin, prefix),
        ),
      );
    }
  }
}
