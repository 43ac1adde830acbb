/** Which subscriptions want an announcement: station list, radius around a point, states. */
import type { StationInfo } from '../feed/model.js';
import type { PushSubscriptionRecord, Webhook } from './types.js';

const EARTH_RADIUS_M = 6_371_008.8; // mean radius (IUGG)

/** Great-circle distance (haversine formula), metres. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** A station of unknown position never matches an area subscription (rather than all of them). */
export function webhookWants(
  w: Webhook,
  stationId: string,
  to: string,
  info: StationInfo | undefined,
): boolean {
  if (!w.active) return false;
  if (w.states !== null && !w.states.includes(to as never)) return false;
  if (w.stationIds !== null && !w.stationIds.includes(stationId)) return false;
  if (w.area !== null) {
    if (info === undefined) return false;
    if (distanceM(w.area.lat, w.area.lon, info.lat, info.lon) > w.area.radiusM) return false;
  }
  return true;
}

export function pushWants(p: PushSubscriptionRecord, stationId: string): boolean {
  return p.stationIds.includes(stationId);
}
