/**
 * Atom feeds of state changes: GET /feeds/state-changes.atom and /feeds/stations/{code}.atom of the
 * default system; the same under /feeds/systems/{id}/ for any system of the store.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ATOM_CONTENT_TYPE,
  ATOM_LANGUAGES,
  buildAtomFeed,
  requestOrigin,
  resolvePublishOptions,
  type AtomLanguage,
  type PublishOptions,
} from '../../publish/index.js';
import { contextOf, prefixedSystem, type ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { errorResponses } from '../schemas.js';

interface Query {
  lang?: AtomLanguage;
  limit: number;
}

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    lang: {
      type: 'string',
      enum: [...ATOM_LANGUAGES],
      description: 'Language of titles and texts (default: fr)',
    },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 200,
      default: 50,
      description: 'Latest changes in the feed',
    },
  },
} as const;

const atomResponse = {
  200: { type: 'string', description: 'An Atom 1.0 document (application/atom+xml)' },
  ...errorResponses,
} as const;

/** Paths relative to the scope's prefix: /feeds (default system) or /feeds/systems/:system. */
export function feedRoutes(app: FastifyInstance, base: ApiContext, options: PublishOptions = {}): void {
  const opts = resolvePublishOptions(options);
  const defaultLang: AtomLanguage = base.language === 'en' ? 'en' : 'fr';

  async function send(
    req: FastifyRequest<{ Querystring: Query }>,
    reply: FastifyReply,
    station: { stationId: string; code: string; name: string } | undefined,
  ): Promise<FastifyReply> {
    const ctx = contextOf(req, base);
    const webSystem = prefixedSystem(req);
    const snap = await ctx.snapshots.current();
    const rows = await ctx.store.listStateChanges({
      system: ctx.systemId,
      ...(station ? { stationId: station.stationId } : {}),
      limit: req.query.limit,
    });
    const systems = await ctx.store.listSystems();
    const origin = requestOrigin(req, opts.publicUrl);
    const body = buildAtomFeed({
      lang: req.query.lang ?? defaultLang,
      systemId: ctx.systemId,
      systemName: systems.find((s) => s.id === ctx.systemId)?.name ?? ctx.systemId,
      timezone: ctx.timezone,
      origin,
      ...(webSystem !== undefined ? { webSystem } : {}),
      selfUrl: `${origin}${req.url}`,
      tagEntity: opts.tagEntity,
      ...(station ? { station } : {}),
      timeSec: snap.timeSec,
      changes: rows.map((change) => {
        const v = snap.byId.get(change.stationId);
        return { change, code: v?.code ?? change.stationId, name: v?.name ?? null };
      }),
    });
    // @fastify/etag hashes the body: a reader polling an unchanged feed gets 304.
    return reply.header('cache-control', ctx.dataCacheControl).type(ATOM_CONTENT_TYPE).send(body);
  }

  app.get<{ Querystring: Query }>(
    '/state-changes.atom',
    {
      schema: {
        summary: 'Atom feed of the latest station state changes of the system',
        tags: ['feeds'],
        querystring,
        response: atomResponse,
      },
    },
    (req, reply) => send(req, reply, undefined),
  );

  app.get<{ Querystring: Query; Params: { file: string } }>(
    '/stations/:file',
    {
      schema: {
        summary: 'Atom feed of one station’s state changes: /feeds/stations/{code}.atom',
        tags: ['feeds'],
        params: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', maxLength: 69, pattern: '^[A-Za-z0-9_.:-]+\\.atom$' } },
        },
        querystring,
        response: atomResponse,
      },
    },
    async (req, reply) => {
      const code = req.params.file.slice(0, -'.atom'.length);
      const snap = await contextOf(req, base).snapshots.current();
      const v = snap.byCode.get(code) ?? snap.byId.get(code);
      if (!v) throw new ApiError('station_not_found', `No station has the code "${code}".`, 'code');
      return send(req, reply, { stationId: v.id, code: v.code, name: v.name });
    },
  );
}
