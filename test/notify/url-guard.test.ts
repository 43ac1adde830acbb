/**
 * Outbound URL validation: a table of URLs and what the guard says, host names resolved by a
 * table instead of the network (tests reach nothing but 127.0.0.1); then the connection-time
 * check with the real resolver and a real local server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutboundUrl, isForbiddenAddress, postOnce, type UrlProblem } from '../../src/notify/index.js';
import { Receiver } from './helpers.js';

const DNS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'intranet.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.20'], // one bad address is enough to refuse
  'metadata.example.com': ['169.254.169.254'],
  'v6local.example.com': ['fd12:3456::1'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
};

function resolve(host: string): Promise<string[]> {
  const found = DNS[host];
  if (!found) return Promise.reject(Object.assign(new Error(`${host} not found`), { code: 'ENOTFOUND' }));
  return Promise.resolve(found);
}

const CASES: [string, UrlProblem | 'ok'][] = [
  ['https://hooks.example.com/dockwatch', 'ok'],
  ['http://hooks.example.com:8080/x?y=1', 'ok'],
  ['https://93.184.216.34/hook', 'ok'],
  ['https://[2606:2800:220:1:248:1893:25c8:1946]/', 'ok'],
  ['ftp://hooks.example.com/', 'bad_scheme'],
  ['file:///etc/passwd', 'bad_scheme'],
  ['javascript:alert(1)', 'bad_scheme'],
  ['gopher://127.0.0.1:6379/_INFO', 'bad_scheme'],
  ['not a url', 'invalid_url'],
  ['/relative/path', 'invalid_url'],
  [`https://hooks.example.com/${'a'.repeat(2100)}`, 'invalid_url'],
  ['https://user:pass@hooks.example.com/', 'credentials'],
  ['http://127.0.0.1:8080/', 'forbidden_address'],
  ['http://127.1/', 'forbidden_address'], // WHATWG URL normalises to 127.0.0.1
  ['http://2130706433/', 'forbidden_address'], // 127.0.0.1 as one number
  ['http://0x7f.0.0.1/', 'forbidden_address'],
  ['http://0.0.0.0/', 'forbidden_address'],
  ['http://[::1]/', 'forbidden_address'],
  ['http://[::]/', 'forbidden_address'],
  ['http://[::ffff:127.0.0.1]/', 'forbidden_address'],
  ['http://[::ffff:10.0.0.1]/', 'forbidden_address'],
  ['http://10.0.0.1/', 'forbidden_address'],
  ['http://172.16.5.4/', 'forbidden_address'],
  ['http://172.31.255.255/', 'forbidden_address'],
  ['http://192.168.0.1/', 'forbidden_address'],
  ['http://169.254.169.254/latest/meta-data/', 'forbidden_address'],
  ['http://100.64.0.1/', 'forbidden_address'],
  ['http://224.0.0.1/', 'forbidden_address'],
  ['http://255.255.255.255/', 'forbidden_address'],
  ['http://[fe80::1]/', 'forbidden_address'],
  ['http://[fd00::1]/', 'forbidden_address'],
  ['http://[ff02::1]/', 'forbidden_address'],
  ['http://[64:ff9b::a00:1]/', 'forbidden_address'], // NAT64 of 10.0.0.1
  ['http://[2002:c0a8:101::1]/', 'forbidden_address'], // 6to4 of 192.168.1.1
  ['http://intranet.example.com/', 'forbidden_address'],
  ['http://mixed.example.com/', 'forbidden_address'],
  ['http://metadata.example.com/', 'forbidden_address'],
  ['http://v6local.example.com/', 'forbidden_address'],
  ['http://mapped.example.com/', 'forbidden_address'],
  ['http://nowhere.example.com/', 'unresolvable'],
];

describe('checkOutboundUrl', () => {
  it.each(CASES)('%s → %s', async (url, expected) => {
    const result = await checkOutboundUrl(url, { allowPrivate: false, resolve });
    expect(result.ok ? 'ok' : result.problem).toBe(expected);
    if (!result.ok) expect(result.message.length).toBeGreaterThan(10);
  });

  it('allows private and loopback addresses only when the config says so', async () => {
    for (const url of ['http://127.0.0.1:8080/', 'http://intranet.example.com/', 'http://[::1]/']) {
      expect((await checkOutboundUrl(url, { allowPrivate: true, resolve })).ok).toBe(true);
    }
    // …but never other schemes or credentials.
    expect((await checkOutboundUrl('ftp://127.0.0.1/', { allowPrivate: true, resolve })).ok).toBe(false);
    expect((await checkOutboundUrl('http://u:p@127.0.0.1/', { allowPrivate: true, resolve })).ok).toBe(false);
  });

  it('wants https for push endpoints', async () => {
    const r = await checkOutboundUrl('http://hooks.example.com/push', {
      allowPrivate: false,
      httpsOnly: true,
      resolve,
    });
    expect(r.ok ? 'ok' : r.problem).toBe('bad_scheme');
    const s = await checkOutboundUrl('https://hooks.example.com/push', {
      allowPrivate: false,
      httpsOnly: true,
      resolve,
    });
    expect(s.ok).toBe(true);
  });

  it('refuses localhost with the system resolver', async () => {
    const r = await checkOutboundUrl('http://localhost:9/', { allowPrivate: false });
    expect(r.ok ? 'ok' : r.problem).toBe('forbidden_address');
  });

  it('classifies addresses', () => {
    expect(isForbiddenAddress('8.8.8.8')).toBe(false);
    expect(isForbiddenAddress('172.32.0.1')).toBe(false); // just outside 172.16/12
    expect(isForbiddenAddress('100.128.0.1')).toBe(false); // just outside 100.64/10
    expect(isForbiddenAddress('2a01:e0a:1::1')).toBe(false);
    expect(isForbiddenAddress('64:ff9b::808:808')).toBe(false); // NAT64 of 8.8.8.8
    expect(isForbiddenAddress('not-an-ip')).toBe(true);
  });
});

describe('the check at connection time (DNS rebinding)', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver([200]).start();
  });
  afterAll(() => receiver.close());

  it('refuses a host name that resolves to loopback when connecting, and sends nothing', async () => {
    // "localhost" stands for a name that passed the check at registration and now points inside.
    const port = new URL(receiver.url).port;
    const res = await postOnce(`http://localhost:${port}/hook`, {
      headers: { 'content-type': 'application/json' },
      body: '{}',
      timeoutMs: 2000,
      allowPrivate: false,
    });
    expect(res.status).toBeNull();
    expect(res.error).toMatch(/private, loopback or reserved/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses an IP literal at send time too', async () => {
    const res = await postOnce(`${receiver.url}/hook`, {
      headers: {},
      body: '{}',
      timeoutMs: 2000,
      allowPrivate: false,
    });
    expect(res.error).toMatch(/private, loopback or reserved/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('does not follow redirects', async () => {
    receiver.plan = [302];
    const res = await postOnce(`${receiver.url}/hook`, {
      headers: {},
      body: '{}',
      timeoutMs: 2000,
      allowPrivate: true,
    });
    expect(res.status).toBe(302);
    expect(res.error).toMatch(/redirects are not followed/);
    expect(receiver.requests).toHaveLength(1);
  });
});
