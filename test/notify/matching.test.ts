/**
 * Which webhooks an announcement goes to: every station, a list of stations, a radius around a
 * point, states of interest — checked on the outbox rows the announcer writes.
 */
import { describe, expect, it } from 'vitest';
import { Announcer, distanceM, NotifyService } from '../../src/notify/index.js';
import { changeAt, documentAt, STATIONS, SYSTEM, T0, testConfig, useNotifyDb } from './helpers.js';

describe('subscription filters', () => {
  const db = useNotifyDb();

  it('haversine distances between the test stations', () => {
    const [a, b, c] = STATIONS;
    const ab = distanceM(a!.lat, a!.lon, b!.lat, b!.lon);
    expect(ab).toBeGreaterThan(800);
    expect(ab).toBeLessThan(900);
    expect(distanceM(a!.lat, a!.lon, c!.lat, c!.lon)).toBeGreaterThan(8000);
    expect(distanceM(a!.lat, a!.lon, a!.lat, a!.lon)).toBe(0);
  });

  it('fans each announcement out to the subscriptions that want it', async () => {
    const { store, notifyStore } = db;
    const service = new NotifyService({
      system: SYSTEM,
      notifyStore,
      config: testConfig(),
      vapidPublicKey: 'k',
    });
    const url = 'http://127.0.0.1:9/hook';
    const all = await service.createWebhook({ url });
    const list = await service.createWebhook({ url, stations: { ids: ['1002'], codes: ['16108'] } });
    const near = await service.createWebhook({
      url,
      area: { lat: STATIONS[0]!.lat, lon: STATIONS[0]!.lon, radiusM: 1000 },
    });
    const recoveries = await service.createWebhook({ url, states: ['ok'] });
    const gone = await service.createWebhook({ url });
    await notifyStore.deleteWebhook(gone.id, Date.now());

    const announcer = new Announcer({
      system: SYSTEM,
      store,
      notifyStore,
      holdSec: 600,
      maxLagSec: 3600,
      publicUrl: '',
    });
    await announcer.tick();
    await changeAt(store, T0 + 60, '1001', 'ok', 'locked');
    await changeAt(store, T0 + 61, '1002', 'ok', 'locked');
    await changeAt(store, T0 + 62, '1003', 'ok', 'locked');
    await documentAt(store, T0 + 62 + 600);
    expect(await announcer.tick()).toBe(3);

    const rows = await notifyStore.listDeliveries({ channel: 'webhook', limit: 50 });
    const byStation = new Map<string, number[]>();
    for (const r of rows) {
      const key = r.announcement.stationId;
      byStation.set(
        key,
        [...(byStation.get(key) ?? []), r.targetId].sort((x, y) => x - y),
      );
    }
    expect(Object.fromEntries(byStation)).toEqual({
      '1001': [all.id, near.id],
      '1002': [all.id, list.id, near.id],
      '1003': [all.id],
    });
    expect(rows.every((r) => r.targetId !== recoveries.id && r.status === 'pending')).toBe(true);
  });
});
