/**
 * Web Push delivery to a local push endpoint (an HTTP server standing for the browser's push
 * service). The test checks what a real push service and browser would: the VAPID JWT (ES256,
 * RFC 8292) verifies with the key in the header, which is the server's stored key; the body
 * decrypts (aes128gcm, RFC 8291/8188) with the subscription's private key and auth secret —
 * decryption written here with node:crypto only, independent of the library that encrypted.
 */
import {
  createECDH,
  createPublicKey,
  hkdfSync,
  randomBytes,
  verify,
  createDecipheriv,
  type ECDH,
} from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NotifyService,
  pushTopic,
  type Notifier,
  type PushInput,
  type PushMessage,
} from '../../src/notify/index.js';
import {
  heldChange,
  openBoth,
  openNotifier,
  Receiver,
  SYSTEM,
  T0,
  tempDir,
  testConfig,
  useNotifyDb,
} from './helpers.js';

interface BrowserKeys {
  ecdh: ECDH;
  p256dh: string;
  auth: Buffer;
}

function browserKeys(): BrowserKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { ecdh, p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16) };
}

/** What the browser holding `keys` posts: its endpoint, its keys, its favourites. */
function pushInput(
  endpoint: string,
  keys: BrowserKeys,
  stations: { ids: string[]; codes: string[] },
  lang: 'fr' | 'en',
): PushInput {
  return { endpoint, p256dh: keys.p256dh, auth: keys.auth.toString('base64url'), stations, lang };
}

/** RFC 8291 §3.4 + RFC 8188 §2: the receiving user agent's side, one record. */
function decryptAes128gcm(body: Buffer, keys: BrowserKeys): string {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  const serverPublic = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  expect(idLength).toBe(65);
  expect(record.length).toBeLessThanOrEqual(recordSize);
  const shared = keys.ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), keys.ecdh.getPublicKey(), serverPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, keys.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2); // last-record delimiter
  return padded.subarray(0, end).toString('utf8');
}

/** RFC 8292: `vapid t=<JWT>, k=<P-256 public key>`; returns the claims after checking the signature. */
function verifyVapid(authorization: string): { claims: Record<string, unknown>; key: string } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!m) throw new Error(`not a VAPID header: ${authorization}`);
  const [header, payload, signature] = m[1]!.split('.');
  const k = Buffer.from(m[2]!, 'base64url');
  expect(k.length).toBe(65);
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: k.subarray(1, 33).toString('base64url'),
      y: k.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const ok = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature!, 'base64url'),
  );
  expect(ok).toBe(true);
  expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toMatchObject({
    alg: 'ES256',
    typ: 'JWT',
  });
  return {
    claims: JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>,
    key: m[2]!,
  };
}

describe('Web Push for favourites', () => {
  const db = useNotifyDb();
  let pushService: Receiver;

  beforeEach(async () => {
    pushService = await new Receiver([201]).start();
  });
  afterEach(async () => {
    await pushService.close();
  });

  async function setup(): Promise<{ notifier: Notifier; service: NotifyService }> {
    const opened = await openNotifier(db, testConfig({ vapidSubject: 'mailto:ops@dockwatch.example' }));
    await opened.notifier.runOnce();
    return opened;
  }

  it('sends an encrypted, VAPID-signed notification in each subscriber’s language', async () => {
    const { notifier, service } = await setup();
    const fr = browserKeys();
    const en = browserKeys();
    const other = browserKeys();
    const favourites = { ids: ['1001'], codes: ['16107'] };
    await service.savePushSubscription(pushInput(`${pushService.url}/send/fr-1`, fr, favourites, 'fr'));
    await service.savePushSubscription(pushInput(`${pushService.url}/send/en-1`, en, favourites, 'en'));
    await service.savePushSubscription(
      pushInput(`${pushService.url}/send/x-1`, other, { ids: ['1003'], codes: ['11104'] }, 'fr'),
    );

    await heldChange(db.store);
    await notifier.runOnce();
    expect(pushService.requests.map((r) => r.url).sort()).toEqual(['/send/en-1', '/send/fr-1']);

    for (const req of pushService.requests) {
      const keys = req.url.endsWith('fr-1') ? fr : en;
      expect(req.headers['content-encoding']).toBe('aes128gcm');
      expect(req.headers['content-type']).toBe('application/octet-stream');
      expect(Number(req.headers['ttl'])).toBeGreaterThan(0);
      expect(req.headers['topic']).toBe(pushTopic(SYSTEM, '16107'));
      const { claims, key } = verifyVapid(req.headers['authorization']!);
      expect(key).toBe(notifier.vapidPublicKey);
      expect(claims['aud']).toBe(new URL(pushService.url).origin);
      expect(claims['sub']).toBe('mailto:ops@dockwatch.example');
      const exp = claims['exp'] as number;
      expect(exp).toBeGreaterThan(Date.now() / 1000);
      expect(exp).toBeLessThanOrEqual(Date.now() / 1000 + 24 * 3600);

      const message = JSON.parse(decryptAes128gcm(req.body, keys)) as PushMessage;
      expect(message.station).toBe('16107');
      expect(message.state).toBe('locked');
      expect(message.url).toBe('https://dockwatch.example/station/16107');
      expect(message.title).toBe('Benjamin Godard - Victor Hugo (16107)');
      if (keys === fr) {
        expect(message.lang).toBe('fr');
        expect(message.body).toMatch(/^La station semble bloquée : ni retrait ni retour depuis \d\d:\d\d\.$/);
      } else {
        expect(message.lang).toBe('en');
        expect(message.body).toMatch(/^The station looks locked: no rentals, no returns since \d\d:\d\d\.$/);
      }
    }
    // The wrong keys cannot read it.
    expect(() => decryptAes128gcm(pushService.requests[0]!.body, other)).toThrow();
  });

  it('forgets a subscription the push service says is gone (410)', async () => {
    const { notifier, service } = await setup();
    const k = browserKeys();
    const sub = await service.savePushSubscription(
      pushInput(
        `${pushService.url}/send/gone`,
        k,
        { ids: ['1001', '1002'], codes: ['16107', '16108'] },
        'en',
      ),
    );
    pushService.plan = [410];
    await heldChange(db.store);
    await notifier.runOnce();
    expect(pushService.requests).toHaveLength(1);
    expect(await db.notifyStore.getPushSubscription(sub.id)).toBeNull();
    const [d] = await db.notifyStore.listDeliveries({ channel: 'push', limit: 1 });
    expect(d).toMatchObject({ status: 'dead', lastStatus: 410, attempts: 1 });
    // Later changes of its stations go nowhere.
    await heldChange(db.store, '1002', T0 + 2000);
    await notifier.runOnce();
    expect(pushService.requests).toHaveLength(1);
  });

  it('keeps the VAPID keys generated at first start', async () => {
    const { notifier } = await setup();
    const again = await openNotifier(db);
    expect(again.notifier.vapidPublicKey).toBe(notifier.vapidPublicKey);
    expect(Buffer.from(notifier.vapidPublicKey, 'base64url')).toHaveLength(65);
    const elsewhere = tempDir();
    const fresh = await openBoth(elsewhere.file);
    const other = (await openNotifier(fresh)).notifier;
    expect(other.vapidPublicKey).not.toBe(notifier.vapidPublicKey);
    await fresh.notifyStore.close();
    await fresh.store.close();
    elsewhere.cleanup();
  });

  it('refuses malformed browser keys and non-https endpoints when private addresses are not allowed', async () => {
    const { service } = await setup();
    const k = browserKeys();
    const base = pushInput(`${pushService.url}/send/a`, k, { ids: [], codes: [] }, 'fr');
    await expect(service.savePushSubscription({ ...base, p256dh: 'abc' })).rejects.toThrow(/p256dh/);
    await expect(
      service.savePushSubscription({ ...base, auth: randomBytes(8).toString('base64url') }),
    ).rejects.toThrow(/auth/);
    const strict = new NotifyService({
      system: SYSTEM,
      notifyStore: db.notifyStore,
      config: testConfig({ allowPrivate: false }),
      vapidPublicKey: 'x',
    });
    await expect(strict.savePushSubscription(base)).rejects.toThrow(/https/);
    await expect(
      strict.savePushSubscription({ ...base, endpoint: 'https://127.0.0.1/push' }),
    ).rejects.toThrow(/loopback/);
  });
});
