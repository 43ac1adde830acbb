import { describe, expect, it } from 'vitest';
import type { StationInfo, StationStatus, StatusDocument } from '../feed/model.js';
import { applyDiff, diffSnapshots, emptyDiffState } from './diff.js';
import { diffInformation } from './information.js';
import type { FeedEvent } from './types.js';
import { eventKey } from './types.js';

const SYS = 'test';
const GAP = { gapThresholdSec: 1800 };

function st(id: string, over: Partial<StationStatus> & { mech?: number; elec?: number } = {}): StationStatus {
  const { mech = 5, elec = 2, ...rest } = over;
  return {
    stationId: id,
    code: null,
    bikes: { mechanical: mech, electric: elec, other: 0 },
    bikesDisabled: 0,
    docksAvailable: 10,
    docksDisabled: 0,
    isInstalled: true,
    isRenting: true,
    isReturning: true,
    lastReportedSec: 1000,
    ...rest,
  };
}

function doc(timeSec: number, stations: StationStatus[]): StatusDocument {
  return { lastUpdatedSec: timeSec, ttlSec: 60, version: '2.3', stations };
}

/** Diffs a sequence of documents, applying each result, and returns every event. */
function run(docs: StatusDocument[], rejected: (Set<string> | undefined)[] = []) {
  const state = emptyDiffState();
  const all: FeedEvent[][] = [];
  docs.forEach((d, i) => {
    const r = diffSnapshots(SYS, state, d, { ...GAP, rejectedStationIds: rejected[i] });
    applyDiff(state, d.lastUpdatedSec, r);
    all.push(r.events);
  });
  return { state, all };
}

const brief = (e: FeedEvent) => {
  switch (e.type) {
    case 'rented':
    case 'returned':
      return `${e.type}:${e.stationId}:${e.bikeType}:${e.count}`;
    case 'status_changed':
      return `${e.type}:${e.stationId}:${e.flag}:${e.to}`;
    case 'snapshot':
      return `snapshot:${e.stations}:${e.intervalSec}`;
    case 'feed_gap':
      return `feed_gap:${e.fromSec}`;
    case 'feed_resumed':
      return `feed_resumed:${e.gapSec}`;
    case 'capacity_changed':
      return `${e.type}:${e.stationId}:${e.from}:${e.to}`;
    default:
      return `${e.type}:${e.stationId}`;
  }
};

describe('diffSnapshots', () => {
  it('first document: station_added for every station, with flags and known info, then a snapshot', () => {
    const info: StationInfo = { stationId: 'a', code: '16107', name: 'A', lat: 48.8, lon: 2.3, capacity: 20 };
    const r = diffSnapshots(SYS, emptyDiffState(), doc(100, [st('a'), st('b', { isRenting: false })]), {
      ...GAP,
      info: new Map([['a', info]]),
    });
    expect(r.events.map(brief)).toEqual(['station_added:a', 'station_added:b', 'snapshot:2:null']);
    const added = r.events.filter((e) => e.type === 'station_added');
    expect(added[0]).toMatchObject({
      info,
      flags: { installed: true, renting: true, returning: true },
      timeSec: 100,
    });
    expect(added[1]).toMatchObject({
      info: null,
      flags: { installed: true, renting: false, returning: true },
    });
    expect(r.changed.map((s) => s.stationId)).toEqual(['a', 'b']);
    expect(r.removed).toEqual([]);
  });

  it('a fall is a rental, a rise a return, per bike type, with the counts after', () => {
    const { all } = run([
      doc(100, [st('a', { mech: 5, elec: 2 })]),
      doc(160, [st('a', { mech: 3, elec: 2, docksAvailable: 12 })]),
      doc(220, [st('a', { mech: 4, elec: 0, docksAvailable: 13 })]),
    ]);
    expect(all[1]!.map(brief)).toEqual(['rented:a:mechanical:2', 'snapshot:1:60']);
    expect(all[2]!.map(brief)).toEqual(['returned:a:mechanical:1', 'rented:a:electric:2', 'snapshot:1:60']);
    expect(all[2]![0]).toMatchObject({
      timeSec: 220,
      after: {
        bikes: { mechanical: 4, electric: 0, other: 0 },
        docksAvailable: 13,
        bikesDisabled: 0,
        docksDisabled: 0,
      },
    });
  });

  it('docks or disabled counts moving without bikes: availability_changed', () => {
    const { all } = run([doc(100, [st('a')]), doc(160, [st('a', { bikesDisabled: 1, docksAvailable: 9 })])]);
    expect(all[1]!.map(brief)).toEqual(['availability_changed:a', 'snapshot:1:60']);
    expect(all[1]![0]).toMatchObject({ after: { bikesDisabled: 1, docksAvailable: 9 } });
  });

  it('one status_changed per flag that moved, carrying the counts', () => {
    const { all } = run([
      doc(100, [st('a')]),
      doc(160, [st('a', { isRenting: false, isReturning: false })]),
      doc(220, [st('a', { isRenting: true, isReturning: false, isInstalled: false, mech: 4 })]),
    ]);
    expect(all[1]!.map(brief)).toEqual([
      'status_changed:a:renting:false',
      'status_changed:a:returning:false',
      'snapshot:1:60',
    ]);
    expect(all[2]!.map(brief)).toEqual([
      'rented:a:mechanical:1',
      'status_changed:a:installed:false',
      'status_changed:a:renting:true',
      'snapshot:1:60',
    ]);
    expect(all[1]![0]).toMatchObject({ from: true, to: false, after: { docksAvailable: 10 } });
  });

  it('a change of lastReportedSec alone updates the stored status but emits no event', () => {
    const state = emptyDiffState();
    applyDiff(state, 100, diffSnapshots(SYS, state, doc(100, [st('a'), st('b')]), GAP));
    const r = diffSnapshots(SYS, state, doc(160, [st('a', { lastReportedSec: 1050 }), st('b')]), GAP);
    expect(r.events.map(brief)).toEqual(['snapshot:2:60']);
    expect(r.changed.map((s) => s.stationId)).toEqual(['a']);
  });

  it('added and removed stations; removals in id order after the station events', () => {
    const { all, state } = run([
      doc(100, [st('c'), st('a'), st('b')]),
      doc(160, [st('b', { mech: 4 }), st('d')]),
    ]);
    expect(all[1]!.map(brief)).toEqual([
      'rented:b:mechanical:1',
      'station_added:d',
      'station_removed:a',
      'station_removed:c',
      'snapshot:2:60',
    ]);
    expect([...state.stations.keys()].sort()).toEqual(['b', 'd']);
  });

  it('a station absent because the parser rejected it is not removed and keeps its status', () => {
    const { all, state } = run(
      [
        doc(100, [st('a'), st('b', { mech: 7 })]),
        doc(160, [st('a')]),
        doc(220, [st('a'), st('b', { mech: 6 })]),
      ],
      [undefined, new Set(['b']), undefined],
    );
    expect(all[1]!.map(brief)).toEqual(['snapshot:1:60']);
    expect(state.stations.get('b')!.bikes.mechanical).toBe(6);
    // Back with its previous status as reference: one rental, not a re-addition.
    expect(all[2]!.map(brief)).toEqual(['rented:b:mechanical:1', 'snapshot:2:60']);
  });

  it('a document with the same or an older timestamp produces nothing', () => {
    const state = emptyDiffState();
    applyDiff(state, 100, diffSnapshots(SYS, state, doc(100, [st('a')]), GAP));
    for (const t of [100, 99]) {
      const r = diffSnapshots(SYS, state, doc(t, [st('a', { mech: 0 }), st('z')]), GAP);
      expect(r).toEqual({ events: [], changed: [], removed: [] });
    }
  });

  it('a silence longer than the threshold: feed_gap and feed_resumed before the station events', () => {
    const { all } = run([
      doc(100, [st('a')]),
      doc(100 + 1800, [st('a')]),
      doc(1900 + 1801, [st('a', { mech: 2 })]),
    ]);
    expect(all[1]!.map(brief)).toEqual(['snapshot:1:1800']);
    expect(all[2]!.map(brief)).toEqual([
      'feed_gap:1900',
      'feed_resumed:1801',
      'rented:a:mechanical:3',
      'snapshot:1:1801',
    ]);
    expect(all[2]!.every((e) => e.timeSec === 3701)).toBe(true);
  });

  it('does not modify the previous state and gives events distinct keys', () => {
    const state = emptyDiffState();
    applyDiff(state, 100, diffSnapshots(SYS, state, doc(100, [st('a'), st('b')]), GAP));
    const before = structuredClone(state);
    const r = diffSnapshots(SYS, state, doc(9000, [st('a', { mech: 1, elec: 9, isRenting: false })]), GAP);
    expect(state).toEqual(before);
    const keys = r.events.map(eventKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('diffInformation', () => {
  const info = (stations: [string, number | null][]) => ({
    lastUpdatedSec: 500,
    ttlSec: null,
    version: null,
    stations: stations.map(([id, capacity]) => ({
      stationId: id,
      code: id,
      name: id,
      lat: 0,
      lon: 0,
      capacity,
    })),
  });

  it('emits capacity_changed for new and changed capacities and keeps omitted stations', () => {
    const prev = new Map<string, number | null>([
      ['a', 20],
      ['b', 30],
      ['gone', 12],
    ]);
    const r = diffInformation(
      SYS,
      prev,
      info([
        ['a', 20],
        ['b', 28],
        ['c', 15],
        ['d', null],
      ]),
    );
    expect(r.events.map(brief)).toEqual(['capacity_changed:b:30:28', 'capacity_changed:c:null:15']);
    expect(r.events[0]!.timeSec).toBe(500);
    expect([...r.capacities.entries()]).toEqual([
      ['a', 20],
      ['b', 28],
      ['gone', 12],
      ['c', 15],
      ['d', null],
    ]);
    expect(prev.get('b')).toBe(30);
  });
});
