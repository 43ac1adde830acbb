/**
 * Outbound URL checks against server-side request forgery: a webhook or push endpoint given by a
 * client must not make dockwatch call its own network (admin ports, cloud metadata…).
 *
 * Checked twice: when the URL is registered (resolve the host name, refuse if ANY address is
 * forbidden), and again at every connection through `guardedLookup`, the DNS lookup the HTTP
 * client itself uses — so a name that resolved to a public address at registration and to
 * 127.0.0.1 later (DNS rebinding) is refused at the moment of connecting, with no gap between
 * the check and the use.
 */
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import net from 'node:net';
import { isForbiddenAddress } from './addresses.js';

export type UrlProblem = 'invalid_url' | 'bad_scheme' | 'credentials' | 'forbidden_address' | 'unresolvable';

export type UrlCheck = { ok: true; url: URL } | { ok: false; problem: UrlProblem; message: string };

export interface UrlCheckOptions {
  allowPrivate: boolean;
  /** Push endpoints: https only (browsers' push services all are), unless allowPrivate. */
  httpsOnly?: boolean;
  /** Host name → addresses; defaults to the system resolver (dns.lookup, all addresses). */
  resolve?: (host: string) => Promise<string[]>;
}

export const MAX_URL_LENGTH = 2048;

async function systemResolve(host: string): Promise<string[]> {
  const found = await dns.promises.lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/** The host of a URL as an IP literal when it is one (WHATWG URL keeps IPv6 in brackets). */
function literalHost(url: URL): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return net.isIP(host) === 0 ? null : host;
}

function fail(problem: UrlProblem, message: string): UrlCheck {
  return { ok: false, problem, message };
}

export async function checkOutboundUrl(raw: string, opts: UrlCheckOptions): Promise<UrlCheck> {
  if (raw.length > MAX_URL_LENGTH)
    return fail('invalid_url', `the URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('invalid_url', 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return fail('bad_scheme', `only http and https URLs are accepted, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (opts.httpsOnly && url.protocol !== 'https:' && !opts.allowPrivate) {
    return fail('bad_scheme', 'push endpoints must be https URLs');
  }
  if (url.username !== '' || url.password !== '') {
    return fail(
      'credentials',
      'credentials in the URL are not accepted (they would end up in logs): verify the signature instead',
    );
  }
  if (opts.allowPrivate) return { ok: true, url };
  const literal = literalHost(url);
  if (literal !== null) {
    return isForbiddenAddress(literal)
      ? fail('forbidden_address', `${literal} is a private, loopback or reserved address`)
      : { ok: true, url };
  }
  let addresses: string[];
  try {
    addresses = await (opts.resolve ?? systemResolve)(url.hostname);
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    return fail('unresolvable', `the host name ${url.hostname} does not resolve (${code})`);
  }
  if (addresses.length === 0) return fail('unresolvable', `the host name ${url.hostname} has no address`);
  const bad = addresses.find((a) => isForbiddenAddress(a));
  if (bad !== undefined) {
    return fail(
      'forbidden_address',
      `${url.hostname} resolves to ${bad}, a private, loopback or reserved address`,
    );
  }
  return { ok: true, url };
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Error a guarded connection fails with; the message says why in the delivery log. */
export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private, loopback or reserved address`);
  }
}

/**
 * A drop-in `lookup` for http.request / net.connect that refuses forbidden addresses. Every
 * address of the answer is checked (as at registration), then handed over in the shape the
 * caller asked for (`all` or a single address).
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses;
    const bad = list.find((a) => isForbiddenAddress(a.address));
    if (bad !== undefined) return callback(new ForbiddenAddressError(hostname, bad.address), []);
    if (list.length === 0)
      return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    if (options.all) return callback(null, list);
    return callback(null, list[0]!.address, list[0]!.family);
  });
}
