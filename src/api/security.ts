/**
 * Security headers (Helmet) and CORS of every response, in one place: server.ts registers the
 * Fastify plugins with these options, and the hot path (hot-path.ts) writes the very same headers
 * without running the plugins per request.
 */
import type { FastifyHelmetOptions } from '@fastify/helmet';
import helmet from 'helmet';

/** CORS: every origin may GET the public data (no credentials, no cookies anywhere). */
export const CORS_ORIGIN = '*';
export const CORS_METHODS = ['GET', 'HEAD'];

export function helmetOptions(tileOrigins: string[]): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...tileOrigins],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // The site is often run on plain http on a LAN: no upgrade of subresources.
    crossOriginEmbedderPolicy: false,
  };
}

/**
 * The headers the Helmet and CORS plugins put on a GET answer, as [name, value] pairs: Helmet's
 * own middleware runs once against a recording response, so the list cannot drift from the plugin.
 */
export function staticResponseHeaders(options: FastifyHelmetOptions): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) =>
      headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  let failure: unknown = null;
  // The plugin's and the package's declarations of the same options are distinct types.
  helmet(options as Parameters<typeof helmet>[0])(
    {} as Parameters<ReturnType<typeof helmet>>[0],
    recorder as unknown as Parameters<ReturnType<typeof helmet>>[1],
    (err?: unknown) => {
      failure = err ?? null;
    },
  );
  if (failure !== null) throw failure instanceof Error ? failure : new Error('helmet refused its options');
  headers.set('access-control-allow-origin', CORS_ORIGIN);
  return [...headers];
}
