/**
 * The HTTP API over a real SQLite store seeded from the real Vélib' snapshot, through real HTTP on
 * 127.0.0.1: the shared contract (contract.ts) plus what only a server holding connections does
 * (Server-Sent Events).
 */
import { expect, it } from 'vitest';
import { apiContract, stationsOf, type StationsBody } from './contract.js';
import { hasVelib, SYSTEM } from './fixture.js';
import { readSse } from './helpers.js';
import { httpRunner } from './runners.js';

if (!hasVelib) console.warn('skipping API tests: ../shared/data/velib-2025-10 is absent');

apiContract(httpRunner, (ctx) => {
  it('live: a state change reaches SSE clients and /stations (new version, new ETag)', async () => {
    const { seeded, api } = ctx();
    const base = api.base!;
    const before = await api.request('/api/v1/stations');
    const etagBefore = before.headers.get('etag');
    const info = seeded.infos.find((i) => i.code === seeded.okCode)!;
    const t = seeded.timeSec + 60;
    const change = {
      system: SYSTEM,
      stationId: info.stationId,
      timeSec: t,
      from: 'ok' as const,
      to: 'locked' as const,
      detector: 'seed',
      confidence: 0.95,
      reason: 'missing_activity',
      evidence: { expected: 5, observed: 0, inactiveSec: 7200 },
      offset: 1000,
    };
    const events = await readSse(
      base + '/api/v1/live',
      (ev) => ev.some((e) => e.event === 'stations') && ev.some((e) => e.event === 'state-change'),
      {
        onOpen: async () => {
          await seeded.store.commitDetection('detector:velib:seed', 1, [change]);
          await seeded.store.saveDetectedStates(SYSTEM, [
            { stationId: info.stationId, state: 'locked', sinceSec: t, confidence: 0.95, detector: 'seed' },
          ]);
          api.live.publishStateChange(change);
          api.live.publishSnapshot(SYSTEM, t);
        },
      },
    );
    const sc = events.find((e) => e.event === 'state-change')!.data as { code: string; to: string };
    expect(sc).toMatchObject({ code: seeded.okCode, to: 'locked' });
    const st = events.find((e) => e.event === 'stations')!.data as {
      stations: { code: string; state: string }[];
      timeSec: number;
    };
    expect(st.stations.find((s) => s.code === seeded.okCode)?.state).toBe('locked');
    expect(st.timeSec).toBe(t);

    const after = await api.request('/api/v1/stations');
    expect(after.headers.get('etag')).not.toBe(etagBefore);
    const body = (await after.json()) as StationsBody;
    expect(stationsOf(body).find((s) => s.code === seeded.okCode)!.state).toBe('locked');
    expect(body.counts['locked']).toBe(seeded.lockedCodes.length + 1);
  });
});
