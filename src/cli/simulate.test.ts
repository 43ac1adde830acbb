import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log/index.js';
import { parseStartSec, parseStationSource, runSimulate } from './simulate.js';

describe('dockwatch simulate', () => {
  it('serves on localhost, prints the URLs, applies fault flags, and stops when asked', async () => {
    const lines: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const running = runSimulate({
      port: 0,
      stations: 'synthetic:50',
      seed: 'cli',
      speed: 0,
      start: '2025-10-06T05:00:00Z',
      faults: ['outage:start=+1h,duration=10m', 'malformed:mode=garbage,n=2'],
      logger: silentLogger,
      print: (l) => lines.push(l),
      until,
    });
    while (!lines.some((l) => l.includes('/control/state'))) await new Promise((r) => setTimeout(r, 10));
    const gbfsUrl = /(http:\/\/127\.0\.0\.1:\d+)\/gbfs\.json/.exec(lines.join('\n'))?.[1] as string;
    expect(gbfsUrl).toBeDefined();
    const state = (await (await fetch(`${gbfsUrl}/control/state`)).json()) as {
      stations: number;
      startSec: number;
      faults: { kind: string; startSec: number; endSec: number; status: string }[];
    };
    expect(state.stations).toBe(50);
    expect(state.startSec).toBe(Date.UTC(2025, 9, 6, 5) / 1000);
    expect(state.faults).toMatchObject([
      { kind: 'outage', startSec: state.startSec + 3600, endSec: state.startSec + 4200, status: 'pending' },
      { kind: 'malformed', status: 'active' },
    ]);
    const body = await (await fetch(`${gbfsUrl}/station_status.json`)).text();
    expect((): unknown => JSON.parse(body)).toThrow();
    stop();
    await running;
    await expect(fetch(`${gbfsUrl}/gbfs.json`)).rejects.toThrow();
  });

  it('refuses bad flags with a message that names them', async () => {
    await expect(
      runSimulate({
        port: 0,
        faults: ['locked:station=nope'],
        logger: silentLogger,
        until: Promise.resolve(),
      }),
    ).rejects.toThrow(/unknown station "nope"/);
    await expect(
      runSimulate({ port: 0, faults: ['flood'], logger: silentLogger, until: Promise.resolve() }),
    ).rejects.toThrow(/kind/);
    expect(() => parseStationSource('/no/such/dir')).toThrow(/--stations/);
    expect(() => parseStartSec('yesterday')).toThrow(/--start/);
    expect(parseStartSec('1760000000')).toBe(1760000000);
    expect(parseStationSource('synthetic:12')).toEqual({ synthetic: { count: 12 } });
  });
});
