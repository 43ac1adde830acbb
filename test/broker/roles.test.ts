/**
 * The roles end to end, in-process: `collect` polls two HTTP feeds from a YAML systems file,
 * `process` consumes, `serve` answers from the store. Plus the systems file's validation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJetStreamLog } from '../../src/broker/index.js';
import { startCollect, startProcess, startServe, type RunningRole } from '../../src/cli/roles.js';
import { loadSystemsFile, parseSystemsFile, SystemsFileError } from '../../src/config/systems-file.js';
import { openSqliteStore } from '../../src/storage/index.js';
import { startSimulatedSequenceFeed, type SequenceFeed } from '../helpers/sequence-feed.js';
import { waitFor } from './fixture.js';
import { NATS_URL, natsUp, uniqueStream } from './nats.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dockwatch-roles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('systems file', () => {
  it('reads YAML and JSON, with defaults', () => {
    const yaml = `systems:
  - id: velib
    name: "Vélib' Métropole"
    feedUrl: https://velib.example/gbfs.json
    timezone: Europe/Paris
    pollIntervalSec: 30
  - id: bay-wheels
    feedUrl: http://127.0.0.1:9/gbfs.json
`;
    expect(parseSystemsFile(yaml, 'systems.yaml')).toEqual([
      {
        id: 'velib',
        name: "Vélib' Métropole",
        feedUrl: 'https://velib.example/gbfs.json',
        timezone: 'Europe/Paris',
        pollIntervalSec: 30,
        language: 'en',
      },
      {
        id: 'bay-wheels',
        name: 'bay-wheels',
        feedUrl: 'http://127.0.0.1:9/gbfs.json',
        pollIntervalSec: 60,
        language: 'en',
      },
    ]);
    const file = path.join(dir, 'systems.json');
    writeFileSync(file, JSON.stringify([{ id: 'a', feedUrl: 'http://127.0.0.1/a.json', language: 'fr' }]));
    expect(loadSystemsFile(file)).toEqual([
      { id: 'a', name: 'a', feedUrl: 'http://127.0.0.1/a.json', pollIntervalSec: 60, language: 'fr' },
    ]);
  });

  it('lists every problem with its place', () => {
    const bad = `systems:
  - id: "has.dot"
    feedUrl: ftp://x/gbfs.json
    timezone: Mars/Olympus
    pollIntervalSec: 0
  - id: ok
    feedUrl: http://127.0.0.1/gbfs.json
    colour: red
  - id: ok
    feedUrl: http://127.0.0.1/other.json
`;
    let err: unknown;
    try {
      parseSystemsFile(bad, 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SystemsFileError);
    const msg = (err as Error).message;
    expect(msg).toContain('invalid systems file bad.yaml');
    expect(msg).toMatch(/systems\[0\]\.id: must be letters, digits/);
    expect(msg).toMatch(/systems\[0\]\.feedUrl: must be an http\(s\) URL/);
    expect(msg).toMatch(/systems\[0\]\.timezone: must be an IANA time zone/);
    expect(msg).toMatch(/systems\[0\]\.pollIntervalSec: must be at least 0\.1 s/);
    expect(msg).toMatch(/systems\[1\].*colour/);
    // Duplicates are reported once the entries themselves are valid.
    expect(() =>
      parseSystemsFile(
        bad
          .replace('has.dot', 'x')
          .replace('ftp:', 'http:')
          .replace('Mars/Olympus', 'UTC')
          .replace(': 0\n', ': 1\n')
          .replace('    colour: red\n', ''),
        'b.yaml',
      ),
    ).toThrow(/systems\[2\]\.id: "ok" appears twice/);
    expect(() => parseSystemsFile('systems: [', 'broken.yaml')).toThrow(/not valid YAML/);
    expect(() => parseSystemsFile('{"systems": []}', 'empty.json')).toThrow(/no systems/);
    expect(() => parseSystemsFile('42', 'n.json')).toThrow(/must be a list of systems/);
    expect(() => loadSystemsFile(path.join(dir, 'missing.yaml'))).toThrow(/cannot read it/);
  });
});

describe.skipIf(!natsUp)('collect, process and serve roles', () => {
  it('watch two feeds from a systems file; the worker processes both; serve answers from the store', async () => {
    const fromSec = Date.UTC(2026, 4, 4, 6) / 1000;
    const feeds: SequenceFeed[] = [];
    const systems = ['one', 'two'];
    const docCount = 12;
    for (const [i, system] of systems.entries()) {
      feeds.push(
        await startSimulatedSequenceFeed({
          system,
          seed: `roles-${system}`,
          stations: 10 + i * 5,
          fromSec,
          docCount,
          timezone: 'America/New_York',
        }),
      );
    }
    const systemsFile = path.join(dir, 'systems.yaml');
    writeFileSync(
      systemsFile,
      `systems:\n` +
        `  - { id: one, name: First, feedUrl: "${feeds[0]!.url}/gbfs.json", timezone: Europe/Paris, pollIntervalSec: 0.2 }\n` +
        `  - { id: two, name: Second, feedUrl: "${feeds[1]!.url}/gbfs.json", pollIntervalSec: 0.2 }\n`,
    );
    const database = path.join(dir, 'roles.sqlite');
    const stream = uniqueStream('ROLES');
    const common = { database, natsUrl: NATS_URL, stream, logLevel: 'silent' };
    const running: RunningRole[] = [];
    const log = await openJetStreamLog({ url: NATS_URL, stream });
    try {
      running.push(await startCollect({ ...common, systems: systemsFile }));
      running.push(await startProcess({ ...common, leaseTtlSec: '3', minHistoryDays: '1' }));
      await waitFor('both feeds served to the end', () => feeds.every((f) => f.done()), 60_000);
      const store = openSqliteStore({ path: database });
      await store.migrate();
      await waitFor(
        'every document in the stream and processed',
        async () => {
          for (const system of systems) {
            const last = await log.forSystem(system).lastOffset();
            const events = await log.forSystem(system).read(0, 100_000);
            if (events.filter((e) => e.type === 'snapshot').length < docCount) return false;
            if ((await store.log.consumerOffset(`activity:${system}`)) < last) return false;
          }
          return true;
        },
        60_000,
        200,
      );
      const records = (await store.listSystems()).sort((a, b) => a.id.localeCompare(b.id));
      // The file's time zone wins; else the feed's system_information.
      expect(records.map((r) => [r.id, r.name, r.timezone])).toEqual([
        ['one', 'First', 'Europe/Paris'],
        ['two', 'Second', 'America/New_York'],
      ]);
      expect((await store.feedHealth('two'))?.lastDocumentSec).toBe(fromSec + (docCount - 1) * 600);
      await store.close();

      const serve = await startServe({
        database,
        host: '127.0.0.1',
        port: '0',
        system: 'two',
        logLevel: 'silent',
      });
      running.push(serve);
      const res = await fetch(`${serve.url}/api/v1/stations`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { system: string; timeSec: number; count: number };
      expect([body.system, body.count, body.timeSec]).toEqual(['two', 15, fromSec + (docCount - 1) * 600]);
      await expect(
        startServe({ database, port: '0', system: 'nowhere', logLevel: 'silent' }),
      ).rejects.toThrow(/system nowhere is not in the store: known one, two/);
    } finally {
      for (const r of running.reverse()) await r.stop();
      for (const f of feeds) await f.close();
      await log.destroy();
      await log.close();
    }
  }, 120_000);
});
