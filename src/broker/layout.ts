import { checkToken } from './subjects.js';

/**
 * Stream and subject names of one dockwatch deployment, derived from the events stream's name so
 * that tests (and several deployments on one NATS) never overlap:
 *
 * | stream              | subjects                                  | kept                    |
 * | <S>                 | <events>.<system>.<p0..pN-1 / _system>    | retention (max age)     |
 * | <S>_SNAPSHOTS       | dockwatch.snapshots.<S>.<system>          | last 4 per system       |
 * | <S>_OFFSETS         | dockwatch.offsets.<S>.<consumer>          | last 1 per consumer     |
 * | <S>_LEASES          | dockwatch.leases.<S>.<group>.…            | last 1 per subject      |
 *
 * with <events> = `dockwatch.events` for the default stream DOCKWATCH_EVENTS, else
 * `dockwatch.<S>` (two streams may not share subjects).
 */
export const DEFAULT_EVENTS_STREAM = 'DOCKWATCH_EVENTS';

export interface BrokerLayout {
  eventsStream: string;
  eventsPrefix: string;
  snapshotsStream: string;
  snapshotsPrefix: string;
  offsetsStream: string;
  offsetsPrefix: string;
  leasesStream: string;
  leasesPrefix: string;
}

export function brokerLayout(stream: string = DEFAULT_EVENTS_STREAM, eventsPrefix?: string): BrokerLayout {
  checkToken(stream, 'stream name');
  return {
    eventsStream: stream,
    eventsPrefix:
      eventsPrefix ?? (stream === DEFAULT_EVENTS_STREAM ? 'dockwatch.events' : `dockwatch.${stream}`),
    snapshotsStream: `${stream}_SNAPSHOTS`,
    snapshotsPrefix: `dockwatch.snapshots.${stream}`,
    offsetsStream: `${stream}_OFFSETS`,
    offsetsPrefix: `dockwatch.offsets.${stream}`,
    leasesStream: `${stream}_LEASES`,
    leasesPrefix: `dockwatch.leases.${stream}`,
  };
}
