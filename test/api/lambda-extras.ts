/**
 * What differs behind API Gateway, for the Lambda runner (any store backend): base64 bodies, the
 * short /live stream, and a warm container picking up what the scheduled function wrote.
 */
import { expect, it } from 'vitest';
import { DEFAULT_TILE_URL } from '../../src/api/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createApiLambda } from '../../src/serverless/index.js';
import { httpApiEvent, lambdaContext, resultBody } from '../serverless/aws-events.js';
import { stationsOf, type StationsBody } from './contract.js';
import { SYSTEM, TIMEZONE, type Seeded } from './fixture.js';
import type { ApiTarget } from './runners.js';

export function lambdaExtras(ctx: () => { seeded: Seeded; api: ApiTarget }): void {
  it('compressed bodies travel base64-encoded, plain JSON as text', async () => {
    const { seeded } = ctx();
    const lambda = await createApiLambda({
      store: seeded.store,
      system: SYSTEM,
      timeZone: TIMEZONE,
      pollIntervalSec: 60,
      logger: silentLogger,
      tileUrl: DEFAULT_TILE_URL,
      language: 'fr',
    });
    try {
      const br = await lambda.handler(
        httpApiEvent('/api/v1/stations', { headers: { 'accept-encoding': 'br' } }),
        lambdaContext('dockwatch-api'),
      );
      expect(br.statusCode).toBe(200);
      expect(br.headers?.['content-encoding']).toBe('br');
      expect(br.isBase64Encoded).toBe(true);
      const plain = await lambda.handler(httpApiEvent('/api/v1/systems'), lambdaContext('dockwatch-api'));
      expect(plain.headers?.['content-encoding']).toBeUndefined();
      expect(plain.isBase64Encoded).toBe(false);
      expect(JSON.parse(resultBody(plain).toString())).toHaveProperty('systems');
    } finally {
      await lambda.app.close();
    }
  });

  it('GET /live: one complete SSE stream that asks the browser to come back after a poll interval', async () => {
    const { api } = ctx();
    const res = await api.request('/api/v1/live', { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=30');
    const text = await res.text();
    expect(text).toMatch(/^retry: 60000\n/);
    expect(text).toMatch(/\nevent: hello\ndata: \{.*"streaming":false.*\}\n\n$/);
    // Any system's stream, as the web app asks for it once a system is chosen.
    const other = await api.request(`/api/v1/systems/${SYSTEM}/live`);
    expect(other.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await other.text()).toMatch(/^retry: 60000\n/);
  });

  it('a warm container shows what the scheduled function committed since (new picture, new ETag)', async () => {
    const { seeded, api } = ctx();
    const before = await api.request('/api/v1/stations');
    const etagBefore = before.headers.get('etag');
    const info = seeded.infos.find((i) => i.code === seeded.okCode)!;
    const t = seeded.timeSec + 120;
    // What one invocation of the fetch function leaves in the store.
    await seeded.store.commitDetection('detector:velib:seed', 2, [
      {
        system: SYSTEM,
        stationId: info.stationId,
        timeSec: t,
        from: 'ok',
        to: 'locked',
        detector: 'seed',
        confidence: 0.95,
        reason: 'missing_activity',
        evidence: { expected: 5, observed: 0, inactiveSec: 7200 },
        offset: 2000,
      },
    ]);
    await seeded.store.saveDetectedStates(SYSTEM, [
      { stationId: info.stationId, state: 'locked', sinceSec: t, confidence: 0.95, detector: 'seed' },
    ]);
    const health = (await seeded.store.feedHealth(SYSTEM))!;
    await seeded.store.saveFeedHealth({ ...health, lastDocumentSec: t });
    // The container looks at the store at most once a second.
    let body: StationsBody | null = null;
    let etag: string | null = etagBefore;
    for (let i = 0; i < 30 && etag === etagBefore; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await api.request('/api/v1/stations');
      etag = res.headers.get('etag');
      body = (await res.json()) as StationsBody;
    }
    expect(etag).not.toBe(etagBefore);
    expect(body!.timeSec).toBe(t);
    expect(stationsOf(body!).find((s) => s.code === seeded.okCode)!.state).toBe('locked');
  });
}
