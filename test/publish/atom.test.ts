/**
 * Atom feeds of state changes, read back with a real feed parser (@rowanmanning/feed-parser) and
 * checked for well-formed XML and the elements RFC 4287 requires (fast-xml-parser).
 */
import { parseFeed } from '@rowanmanning/feed-parser';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryId, homePageUrl, stationPageUrl, xmlEscape } from '../../src/publish/index.js';
import type { StoredStateChange } from '../../src/storage/index.js';
import { SYSTEM, buildWorld, pollUntilState, type World } from './fixture.js';

const TAG_ENTITY = 'dockwatch.invalid,2025';

async function getAtom(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
  const xml = await res.text();
  expect(XMLValidator.validate(xml)).toBe(true);
  return xml;
}

type Node = Record<string, unknown>;
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** RFC 4287 §4.1: atom:feed and atom:entry carry id, title, updated; an author; entries link somewhere. */
function expectRfc4287(xml: string): void {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(xml) as Node;
  const feed = doc['feed'] as Node;
  expect(feed['@xmlns']).toBe('http://www.w3.org/2005/Atom');
  for (const k of ['id', 'title', 'updated', 'author']) expect(feed[k], k).toBeDefined();
  expect(String(feed['id'])).toMatch(/^tag:/);
  for (const entry of asArray(feed['entry'] as Node | Node[])) {
    for (const k of ['id', 'title', 'updated', 'link', 'summary']) expect(entry[k], k).toBeDefined();
    expect(String(entry['updated'])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  }
}

describe('xmlEscape', () => {
  it('escapes markup and drops what XML 1.0 cannot carry', () => {
    expect(xmlEscape(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(xmlEscape('x\u0001y\u0008z\ud800\tok\n')).toBe('xyz\tok\n');
    expect(xmlEscape('Vélib’ — Gare de l’Est 🚲')).toBe('Vélib’ — Gare de l’Est 🚲');
  });
});

describe('web app links', () => {
  it('select the system only when one is given, encoded', () => {
    const o = 'https://velo.example.org';
    expect(stationPageUrl(o, '16107')).toBe(`${o}/station/16107`);
    expect(stationPageUrl(o, 'A B', 'bay wheels')).toBe(`${o}/station/A%20B?system=bay%20wheels`);
    expect(homePageUrl(o)).toBe(`${o}/`);
    expect(homePageUrl(o, 'sf&x')).toBe(`${o}/?system=sf%26x`);
  });
});

describe('Atom feeds over HTTP', () => {
  let world: World;
  let url: string;
  let target: string;
  let code: string;
  let lock: StoredStateChange;

  beforeAll(async () => {
    world = await buildWorld();
    ({ url } = await world.server());
    target = world.busiest[0]!;
    world.sim.injectFault({ kind: 'locked', stationId: target, startInSec: 0 });
    await pollUntilState(world, target, 'locked', 400);
    code = (await world.store.listStationInfo(SYSTEM)).find((s) => s.stationId === target)!.code;
    lock = (
      await world.store.listStateChanges({ system: SYSTEM, stationId: target, state: 'locked', limit: 1 })
    )[0]!;
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('whole system: the latest changes, newest first, in French by default', async () => {
    const xml = await getAtom(`${url}/feeds/state-changes.atom`);
    expectRfc4287(xml);
    const feed = parseFeed(xml);
    expect(feed.meta.type).toBe('atom');
    expect(feed.language).toBe('fr');
    expect(feed.title).toContain('changements d’état');
    expect(feed.self).toBe(`${url}/feeds/state-changes.atom`);
    const stored = await world.store.listStateChanges({ system: SYSTEM, limit: 50 });
    expect(stored.length).toBeGreaterThan(1);
    expect(feed.items.map((i) => i.id)).toEqual(stored.map((c) => entryId(TAG_ENTITY, c)));
    expect(feed.items.map((i) => i.updated?.getTime())).toEqual(stored.map((c) => c.timeSec * 1000));
    const item = feed.items.find((i) => i.id === entryId(TAG_ENTITY, lock))!;
    expect(item.title).toContain('Bloquée');
    expect(item.title).toContain(`(${code})`);
    expect(item.url).toBe(`${url}/station/${encodeURIComponent(code)}`);
    expect(item.description).toContain('Raison');
    expect(item.categories.map((c) => c.term)).toEqual(['locked']);
    expect(feed.updated?.getTime()).toBe(stored[0]!.timeSec * 1000);
  });

  it('English with ?lang=en, same entry ids', async () => {
    const xml = await getAtom(`${url}/feeds/state-changes.atom?lang=en&limit=5`);
    expectRfc4287(xml);
    const feed = parseFeed(xml);
    expect(feed.language).toBe('en');
    expect(feed.title).toContain('station state changes');
    expect(feed.items).toHaveLength(5);
    const fr = parseFeed(await getAtom(`${url}/feeds/state-changes.atom?limit=5`));
    expect(feed.items.map((i) => i.id)).toEqual(fr.items.map((i) => i.id));
    const station = parseFeed(
      await getAtom(`${url}/feeds/stations/${encodeURIComponent(code)}.atom?lang=en`),
    );
    expect(station.items[0]!.id).toBe(entryId(TAG_ENTITY, lock));
    expect(station.items[0]!.title).toContain('Locked');
    expect(station.items[0]!.description).toContain('Reason: no rental nor return');
  });

  it('one station: only its changes, linking to its page', async () => {
    const xml = await getAtom(`${url}/feeds/stations/${encodeURIComponent(code)}.atom`);
    expectRfc4287(xml);
    const feed = parseFeed(xml);
    const stored = await world.store.listStateChanges({ system: SYSTEM, stationId: target, limit: 50 });
    expect(feed.items.map((i) => i.id)).toEqual(stored.map((c) => entryId(TAG_ENTITY, c)));
    for (const item of feed.items) expect(item.url).toBe(`${url}/station/${encodeURIComponent(code)}`);
    expect(feed.items[0]!.title).toContain('Bloquée');
    expect(feed.url).toBe(`${url}/station/${encodeURIComponent(code)}`);
    // The same change has the same id in both feeds: a reader subscribed to both sees one entry.
    expect(feed.items.map((i) => i.id)).toContain(entryId(TAG_ENTITY, lock));
  });

  it('the same feeds under /feeds/systems/{id}/: same entries, links that keep the system', async () => {
    const prefixed = `${url}/feeds/systems/${SYSTEM}`;
    const xml = await getAtom(`${prefixed}/state-changes.atom`);
    expectRfc4287(xml);
    const feed = parseFeed(xml);
    const plain = parseFeed(await getAtom(`${url}/feeds/state-changes.atom`));
    expect(feed.items.map((i) => i.id)).toEqual(plain.items.map((i) => i.id));
    expect(feed.self).toBe(`${prefixed}/state-changes.atom`);
    expect(feed.url).toBe(`${url}/?system=${SYSTEM}`);
    const item = feed.items.find((i) => i.id === entryId(TAG_ENTITY, lock))!;
    expect(item.url).toBe(`${url}/station/${encodeURIComponent(code)}?system=${SYSTEM}`);

    const station = parseFeed(await getAtom(`${prefixed}/stations/${encodeURIComponent(code)}.atom`));
    expect(station.items.map((i) => i.id)).toContain(entryId(TAG_ENTITY, lock));
    expect(station.url).toBe(`${url}/station/${encodeURIComponent(code)}?system=${SYSTEM}`);
    const other = await fetch(`${url}/feeds/systems/elsewhere/state-changes.atom`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 'system_not_found', param: 'system' });
  });

  it('escapes names from the feed', async () => {
    const info = (await world.store.listStationInfo(SYSTEM)).find((s) => s.stationId === target)!;
    const nasty = `Gare <Nord> & "Sud" 'Est' ]]> \u0001`;
    await world.store.saveStationInfo(SYSTEM, [{ ...info, name: nasty }]);
    world.live.publishSnapshot(SYSTEM, world.lastDocSec); // the API rebuilds its picture
    const xml = await getAtom(`${url}/feeds/stations/${encodeURIComponent(code)}.atom`);
    const feed = parseFeed(xml);
    expect(feed.items[0]!.title).toContain(`Gare <Nord> & "Sud" 'Est' ]]>`);
    expect(feed.items[0]!.title).not.toContain('\u0001');
    expect(feed.title).toContain(`Gare <Nord> & "Sud"`);
  });

  it('ETag and errors', async () => {
    const res = await fetch(`${url}/feeds/state-changes.atom`);
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(
      (await fetch(`${url}/feeds/state-changes.atom`, { headers: { 'if-none-match': etag! } })).status,
    ).toBe(304);

    const missing = await fetch(`${url}/feeds/stations/NOPE-0.atom`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'station_not_found' });
    const badLang = await fetch(`${url}/feeds/state-changes.atom?lang=de`);
    expect(badLang.status).toBe(400);
    expect(await badLang.json()).toMatchObject({ code: 'invalid_parameter', param: 'lang' });
    expect((await fetch(`${url}/feeds/stations/${code}.rss`)).status).toBe(400);
  });
});
