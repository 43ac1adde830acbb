import { afterAll, describe, expect, it } from 'vitest';
import { openJetStreamLog, type JetStreamLog } from '../../src/broker/index.js';
import type { EventLog } from '../../src/storage/index.js';
import { everyKind, rented } from '../storage/contract.js';
import { describeEventLogContract } from '../storage/event-log-contract.js';
import { NATS_URL, natsUp, uniqueStream } from './nats.js';

const opened: JetStreamLog[] = [];
async function freshLog(tag: string): Promise<JetStreamLog> {
  const log = await openJetStreamLog({ url: NATS_URL, stream: uniqueStream(tag) });
  opened.push(log);
  return log;
}
async function drop(log: EventLog): Promise<void> {
  const js = log as JetStreamLog;
  await js.destroy();
  await js.close();
}
afterAll(async () => {
  for (const log of opened) if (!log.nc.isClosed()) await drop(log);
});

describe.skipIf(!natsUp)('JetStream event log', () => {
  describeEventLogContract('jetstream', () => freshLog('C'), drop);

  it('keeps events for the retention it is opened with, and applies a new retention to an existing stream', async () => {
    const a = await freshLog('AGE');
    const maxAge = async (): Promise<number> =>
      (await a.jsm.streams.info(a.layout.eventsStream)).config.max_age / 1e9;
    expect(await maxAge()).toBe(0); // none given: kept forever
    const b = await openJetStreamLog({
      url: NATS_URL,
      stream: a.layout.eventsStream,
      maxAgeSec: 60 * 86_400,
    });
    expect(await maxAge()).toBe(60 * 86_400);
    await b.close();
    // Reopened without a retention (a tool, a test): the deployment's setting stays.
    const c = await openJetStreamLog({ url: NATS_URL, stream: a.layout.eventsStream });
    expect(await maxAge()).toBe(60 * 86_400);
    await c.close();
    await drop(a);
  });

  it('suppresses a document published twice, even from two connections', async () => {
    const a = await freshLog('DUP');
    const b = await openJetStreamLog({ url: NATS_URL, stream: a.layout.eventsStream });
    const doc = everyKind(1_760_000_000);
    const first = await a.append(doc);
    expect(await b.append(doc)).toEqual([]);
    expect(await a.read(0, 1000)).toEqual(first);
    await b.close();
    await drop(a);
  });

  it('puts events on system / partition subjects and a system view reads only its own, with stream offsets', async () => {
    const log = await freshLog('VIEW');
    const out = await log.append([
      rented('1', 100, 1, 'sysa'),
      rented('1', 100, 1, 'sysb'),
      rented('2', 160, 1, 'sysa'),
      { system: 'sysb', timeSec: 160, type: 'snapshot', stations: 2, intervalSec: 60 },
    ]);
    expect(out.map((e) => e.offset)).toEqual([1, 2, 3, 4]);
    const a = log.forSystem('sysa');
    const b = log.forSystem('sysb');
    expect((await a.read(0, 10)).map((e) => e.offset)).toEqual([1, 3]);
    expect((await b.read(0, 10)).map((e) => [e.offset, e.type])).toEqual([
      [2, 'rented'],
      [4, 'snapshot'],
    ]);
    expect(await a.read(1, 10)).toEqual([out[2]]);
    expect(await a.lastOffset()).toBe(3);
    expect(await b.lastOffset()).toBe(4);
    expect(await log.forSystem('sysc').lastOffset()).toBe(0);
    const subjects = await log.jsm.streams.info(log.layout.eventsStream, { subjects_filter: '>' });
    expect(Object.keys(subjects.state.subjects ?? {}).sort()).toEqual(
      [
        `${log.layout.eventsPrefix}.sysa.${log.subjects.of(out[0]!).split('.').pop()}`,
        `${log.layout.eventsPrefix}.sysa.${log.subjects.of(out[2]!).split('.').pop()}`,
        `${log.layout.eventsPrefix}.sysb._system`,
        `${log.layout.eventsPrefix}.sysb.${log.subjects.of(out[1]!).split('.').pop()}`,
      ]
        .filter((s, i, all) => all.indexOf(s) === i)
        .sort(),
    );
    expect(() => log.forSystem('bad.id')).toThrow(/cannot be used in a NATS subject/);
    await drop(log);
  });

  it('reads a large log in pages and follows appends made after the reader started', async () => {
    const log = await freshLog('PAGE');
    const view = log.forSystem('velib');
    await log.append(Array.from({ length: 3000 }, (_, i) => rented(String(i % 50), 1000 + i)));
    let offset = 0;
    let total = 0;
    for (;;) {
      const page = await view.read(offset, 700);
      if (page.length === 0) break;
      total += page.length;
      offset = page[page.length - 1]!.offset;
    }
    expect(total).toBe(3000);
    await log.append([rented('x', 99_999)]);
    expect((await view.read(offset, 700)).map((e) => e.timeSec)).toEqual([99_999]);
    await drop(log);
  });
});
