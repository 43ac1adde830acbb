/**
 * The backtest: one pass to summarise the real trace, then one pass that injects faults and runs
 * parse → inject → diff → activity model → N detectors side by side, exactly as the service would
 * see the faulty feed. Then every detector's alarms are scored against the plan.
 */
import { ActivityModel } from '../activity/index.js';
import { readArchive, emptyArchiveStats } from '../archive/index.js';
import type { Detector, StateChange } from '../detection/types.js';
import { applyDiff, diffSnapshots, emptyDiffState, type LoggedEvent } from '../events/index.js';
import type { StationInfo, StatusDocument } from '../feed/model.js';
import { parseStationInformation, parseStationStatus, parseSystemInformation } from '../feed/parse/index.js';
import { episodesFrom } from './episodes.js';
import { planFaults, type Fault, type StationFault } from './faults.js';
import { FaultInjector } from './inject.js';
import { scoreDetector, type DetectorScore, type StationExposure } from './score.js';
import { TraceSummary } from './summary.js';

export interface BacktestConfig {
  archives: string[];
  detectors: string[];
  makeDetector: (name: string, opts: { system: string; minHistoryDays: number }) => Detector;
  seed: number;
  faultsPerKind: number;
  outages: number;
  minHistoryDays: number;
  /** No fault before this many days: detectors must have learned first. Default minHistoryDays + 1. */
  warmupDays?: number;
  /** A longer silence between documents is blind time (feed_gap). Default: 3 × the median interval, as the replay does. */
  gapThresholdSec?: number;
  /** Used when the archive holds no system_information. */
  timeZone?: string;
  onProgress?: (pass: 1 | 2, fraction: number) => void;
  /** Longest stuck_bikes / docks_blocked fault in hours (default 24, as every kind). */
  stuckMaxHours?: number;
  /** docks_blocked faults to inject (default 0; drawn after the others, which stay the same). */
  blockedDocksFaults?: number;
}

export interface BacktestResult {
  seed: number;
  archives: string[];
  timeZone: string;
  startSec: number;
  endSec: number;
  documents: number;
  stationObservations: number;
  stations: number;
  faults: Fault[];
  scores: DetectorScore[];
  gapThresholdSec: number;
  seconds: { summary: number; replay: number };
  /** State changes per detector (for people who want to look further). */
  changes: Record<string, StateChange[]>;
}

const SYSTEM = 'backtest';
const LATE_SEC = 7200;
const OUTAGE_POST_SEC = 3600;

export async function backtest(cfg: BacktestConfig): Promise<BacktestResult> {
  const t0 = performance.now();
  const summary = new TraceSummary(cfg.gapThresholdSec ?? 3600);
  let timeZone = cfg.timeZone ?? 'UTC';
  summary.timeZone = timeZone;
  const stats1 = emptyArchiveStats();
  for await (const item of readArchive(cfg.archives, {
    feeds: ['system_information', 'station_status'],
    stats: stats1,
  })) {
    if (item.feed === 'system_information') {
      const r = parseSystemInformation(item.doc);
      if (r.ok) timeZone = summary.timeZone = r.doc.timezone;
      continue;
    }
    const r = parseStationStatus(item.doc);
    if (r.ok) summary.add(r.doc);
    if (cfg.onProgress && (summary.documents & 63) === 0)
      cfg.onProgress(1, item.bytes / Math.max(1, stats1.totalBytes));
  }
  if (summary.documents === 0) throw new Error(`no station_status document in ${cfg.archives.join(', ')}`);
  const stationSummaries = summary.stations();
  const busyness = new Map(stationSummaries.map((s) => [s.stationId, s.eventsPerHour]));
  const warmupSec = (cfg.warmupDays ?? cfg.minHistoryDays + 1) * 86_400;
  const faults = planFaults(stationSummaries, {
    seed: cfg.seed,
    startSec: summary.startSec,
    endSec: summary.endSec,
    warmupSec,
    faultsPerKind: cfg.faultsPerKind,
    outages: cfg.outages,
    ...(cfg.stuckMaxHours === undefined ? {} : { stuckMaxDurationSec: cfg.stuckMaxHours * 3600 }),
    ...(cfg.blockedDocksFaults === undefined ? {} : { blockedDocksFaults: cfg.blockedDocksFaults }),
  });
  for (const f of faults) {
    if (f.kind === 'outage') continue;
    const w = summary.expectWindow(f.stationId, f.startSec, f.endSec);
    f.expectedEvents = w.expectedEvents;
    f.firstExpectedSec = w.firstExpectedSec;
  }
  const gapThresholdSec = cfg.gapThresholdSec ?? 3 * (summary.medianIntervalSec() ?? 600);
  const t1 = performance.now();

  const injector = new FaultInjector(faults);
  const activity = new ActivityModel({ timeZone });
  const detectors = cfg.detectors.map((name) =>
    cfg.makeDetector(name, { system: SYSTEM, minHistoryDays: cfg.minHistoryDays }),
  );
  const changes: StateChange[][] = detectors.map(() => []);
  const exposure = new ExposureCounter(faults, summary.startSec + warmupSec, gapThresholdSec);
  const diffState = emptyDiffState();
  const info = new Map<string, StationInfo>();
  let offset = 0;
  let docs = 0;
  const stats2 = emptyArchiveStats();
  for await (const item of readArchive(cfg.archives, {
    feeds: ['station_information', 'station_status'],
    stats: stats2,
  })) {
    if (item.feed === 'station_information') {
      const r = parseStationInformation(item.doc);
      if (r.ok) for (const s of r.doc.stations) info.set(s.stationId, s);
      continue;
    }
    const r = parseStationStatus(item.doc);
    if (!r.ok) continue;
    const doc = injector.apply(r.doc);
    if (!doc) continue;
    if (diffState.lastDocumentSec !== null && doc.lastUpdatedSec <= diffState.lastDocumentSec) continue;
    exposure.add(doc, diffState.lastDocumentSec);
    const result = diffSnapshots(SYSTEM, diffState, doc, { gapThresholdSec, info });
    applyDiff(diffState, doc.lastUpdatedSec, result);
    for (const e of result.events) {
      const logged = e as LoggedEvent;
      logged.offset = ++offset;
      activity.apply(logged);
      for (let d = 0; d < detectors.length; d++) {
        const out = detectors[d]!.handle(logged, activity);
        if (out.length > 0) for (const c of out) changes[d]!.push(c);
      }
    }
    docs++;
    if (cfg.onProgress && (docs & 63) === 0) cfg.onProgress(2, item.bytes / Math.max(1, stats2.totalBytes));
  }
  const t2 = performance.now();
  for (const f of faults) {
    if (f.kind === 'outage') continue;
    f.realEvents = injector.realEvents.get(f.id) ?? 0;
    if (f.kind === 'stuck_bikes' || f.kind === 'docks_blocked')
      f.deniedEvents = injector.deniedEvents.get(f.id) ?? 0;
  }

  const exposures: StationExposure[] = [];
  for (const [stationId, sec] of exposure.uninjected) {
    const eventsPerHour = busyness.get(stationId);
    if (eventsPerHour !== undefined) exposures.push({ stationId, eventsPerHour, uninjectedSec: sec });
  }
  const scores = detectors.map((d, i) =>
    scoreDetector(d.name, faults, episodesFrom(changes[i]!), exposures, summary.endSec, {
      lateSec: LATE_SEC,
      outagePostSec: OUTAGE_POST_SEC,
    }),
  );
  return {
    seed: cfg.seed,
    archives: cfg.archives,
    timeZone,
    startSec: summary.startSec,
    endSec: summary.endSec,
    documents: summary.documents,
    stationObservations: summary.stationObservations,
    stations: stationSummaries.length,
    faults,
    scores,
    gapThresholdSec,
    seconds: { summary: (t1 - t0) / 1000, replay: (t2 - t1) / 1000 },
    changes: Object.fromEntries(detectors.map((d, i) => [d.name, changes[i]!])),
  };
}

/**
 * Un-injected, observed station-time after the warm-up: the denominator of the false-alarm rate.
 * Blind intervals, the hour after an outage and each fault's window (plus its late margin) are left out.
 */
class ExposureCounter {
  readonly uninjected = new Map<string, number>();
  private readonly byStation = new Map<string, StationFault[]>();
  private readonly outages: Fault[];

  constructor(
    faults: readonly Fault[],
    private readonly fromSec: number,
    private readonly gapThresholdSec: number,
  ) {
    this.outages = faults.filter((f) => f.kind === 'outage');
    for (const f of faults) {
      if (f.kind === 'outage') continue;
      const list = this.byStation.get(f.stationId) ?? [];
      list.push(f);
      this.byStation.set(f.stationId, list);
    }
  }

  add(doc: StatusDocument, prevSec: number | null): void {
    const t = doc.lastUpdatedSec;
    if (prevSec === null || t < this.fromSec) return;
    const dt = t - prevSec;
    if (dt > this.gapThresholdSec) return;
    for (const o of this.outages) if (t >= o.startSec && t < o.endSec + OUTAGE_POST_SEC) return;
    for (const s of doc.stations) {
      const fs = this.byStation.get(s.stationId);
      if (fs && fs.some((f) => t >= f.startSec && t < f.endSec + LATE_SEC)) continue;
      this.uninjected.set(s.stationId, (this.uninjected.get(s.stationId) ?? 0) + dt);
    }
  }
}
