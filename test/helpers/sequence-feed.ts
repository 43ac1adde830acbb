/**
 * A GBFS 2.3 server that serves a fixed sequence of station_status documents, each exactly
 * `servesPerDocument` times before moving to the next (the last one forever). Time plays no part:
 * a watcher killed and restarted sees the same documents as an uninterrupted one, as long as it
 * is not killed during every serve of one document.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateDocuments } from '../../src/sim/index.js';

export interface SequenceFeed {
  url: string;
  /** Index of the document being served. */
  position(): number;
  done(): boolean;
  close(): Promise<void>;
}

export async function startSequenceFeed(opts: {
  statusDocs: object[];
  informationDoc: object;
  systemInformationDoc: object;
  servesPerDocument: number;
}): Promise<SequenceFeed> {
  let index = 0;
  let served = 0;
  const json = (res: import('node:http').ServerResponse, body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    const base = `http://${req.headers.host ?? ''}`;
    switch (req.url) {
      case '/gbfs.json':
        return json(res, {
          last_updated: Math.floor(Date.now() / 1000),
          ttl: 60,
          version: '2.3',
          data: {
            en: {
              feeds: ['system_information', 'station_information', 'station_status'].map((name) => ({
                name,
                url: `${base}/${name}.json`,
              })),
            },
          },
        });
      case '/system_information.json':
        return json(res, opts.systemInformationDoc);
      case '/station_information.json':
        return json(res, opts.informationDoc);
      case '/station_status.json': {
        json(res, opts.statusDocs[index]);
        served++;
        if (served >= opts.servesPerDocument && index < opts.statusDocs.length - 1) {
          index++;
          served = 0;
        }
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    position: () => index,
    done: () => index === opts.statusDocs.length - 1 && served >= opts.servesPerDocument,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A sequence feed of one simulated system: the simulator's documents every 10 minutes from
 * `fromSec`, `docCount` of them, served in turn, with a system_information naming `timezone`.
 */
export async function startSimulatedSequenceFeed(opts: {
  system: string;
  seed: string;
  stations: number;
  fromSec: number;
  docCount: number;
  timezone: string;
}): Promise<SequenceFeed> {
  const raw = [
    ...generateDocuments({
      seed: opts.seed,
      stations: { synthetic: { count: opts.stations } },
      fromSec: opts.fromSec,
      toSec: opts.fromSec + (opts.docCount - 1) * 600,
      stepSec: 600,
    }),
  ];
  return startSequenceFeed({
    statusDocs: raw.map((d) => d.statusDoc),
    informationDoc: raw[0]!.informationDoc!,
    systemInformationDoc: {
      last_updated: opts.fromSec,
      ttl: 60,
      version: '2.3',
      data: { system_id: opts.system, name: opts.system, language: 'en', timezone: opts.timezone },
    },
    servesPerDocument: 1,
  });
}
