/** The backtest's report: a plain-text table for people, JSON for machines. */
import { BUSYNESS_BANDS, STATION_FAULT_KINDS } from './faults.js';
import type { BacktestResult } from './harness.js';
import type { Rates } from './score.js';

const pct = (x: number | null): string => (x === null ? '–' : x.toFixed(2));
const hours = (sec: number | null): string => (sec === null ? '–' : (sec / 3600).toFixed(1) + 'h');
const num = (x: number | null, digits = 2): string => (x === null ? '–' : x.toFixed(digits));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

function rateRow(label: string, detector: string, r: Rates): string[] {
  return [
    label,
    detector,
    String(r.faults - r.masked),
    pct(r.recall),
    pct(r.precision),
    `${r.rightState}`,
    hours(r.delayMedianSec),
    hours(r.delayP90Sec),
    hours(r.delayAfterDueMedianSec),
  ];
}

export function formatReport(res: BacktestResult): string {
  const out: string[] = [];
  const day = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 16).replace('T', ' ');
  out.push(
    `Backtest of ${res.archives.join(', ')}: ${res.documents} documents, ${res.stations} stations, ${day(res.startSec)} → ${day(res.endSec)} UTC (${res.timeZone})`,
    `seed ${res.seed}; ${res.faults.length} faults injected; gap threshold ${res.gapThresholdSec}s; ${res.seconds.summary.toFixed(0)}s summary + ${res.seconds.replay.toFixed(0)}s replay`,
    '',
  );
  const header = [
    'fault kind',
    'detector',
    'faults',
    'recall',
    'precision',
    'right state',
    'delay p50',
    'delay p90',
    'p50 after due',
  ];
  const rows = [header];
  // Kinds that were injected (docks_blocked only when asked for).
  const kinds = STATION_FAULT_KINDS.filter((k) => res.faults.some((f) => f.kind === k));
  for (const kind of kinds) for (const s of res.scores) rows.push(rateRow(kind, s.detector, s.byKind[kind]));
  for (const s of res.scores) rows.push(rateRow('GOAL locks ≥2h, ≥1/h', s.detector, s.goalLocks));
  for (const s of res.scores) rows.push(rateRow('GOAL partial ≥2h, ≥1/h', s.detector, s.goalPartial));
  for (const s of res.scores) rows.push(rateRow('stuck ≥2h, visible', s.detector, s.goalStuckVisible));
  if (kinds.includes('docks_blocked'))
    for (const s of res.scores)
      rows.push(rateRow('blocked docks ≥2h, visible', s.detector, s.goalBlockedVisible));
  for (const s of res.scores)
    rows.push(rateRow('(old set: all-day avg ≥1/h)', s.detector, s.goalLocksStationAverage));
  out.push(
    table(rows),
    'GOAL rows: faults ≥ 2 h whose window usually sees ≥ 1 event/h (station profile by day type and hour).',
    'Delays from the injection start; "after due": from when the first event was due in the window.',
    '',
  );

  const bandRows = [['recall by busyness', 'detector', ...BUSYNESS_BANDS.map((b) => b.label)]];
  for (const kind of kinds) {
    for (const s of res.scores)
      bandRows.push([
        kind,
        s.detector,
        ...s.byKind[kind].byBand.map((b) => `${pct(b.recall)} (${b.faults - b.masked})`),
      ]);
  }
  out.push(table(bandRows), '');

  const faRows = [
    [
      'unexplained alarms /100 station-days',
      'detector',
      'all',
      ...BUSYNESS_BANDS.map((b) => b.label),
      'outage alarms (chance)',
    ],
  ];
  for (const s of res.scores) {
    const fa = s.falseAlarms;
    faRows.push([
      `${fa.alarms} alarms in ${fa.stationDays.toFixed(0)} station-days`,
      s.detector,
      num(fa.per100StationDays),
      ...fa.byBand.map((b) => num(b.per100StationDays)),
      `${s.outages.alarms} (${num(s.outages.expectedByChance, 1)})`,
    ]);
  }
  out.push(table(faRows), '');
  const allRows = [
    ['all alarms after warm-up', 'detector', 'hits', 'late', 'outage', 'unexplained', '<1h', 'hits/all'],
  ];
  for (const s of res.scores) {
    const a = s.alarmsAll;
    allRows.push([
      '',
      s.detector,
      String(a.hits),
      String(a.late),
      String(a.outage),
      String(a.unexplained),
      String(a.unexplainedUnder1h),
      pct(a.precisionAll),
    ]);
  }
  out.push(table(allRows), '');
  const stuckRows = [['stuck bikes / blocked docks alarms', 'detector', 'hits', 'unexplained', '/100 sd']];
  for (const s of res.scores) {
    const k = s.stuckAlarms;
    stuckRows.push(['', s.detector, String(k.hits), String(k.unexplained), num(k.per100StationDays)]);
  }
  out.push(table(stuckRows), '');
  out.push(
    'Unexplained alarms (outside every injected window; they may be real locks — look at these stations):',
  );
  for (const s of res.scores) {
    const top = s.unexplainedTop
      .slice(0, 5)
      .map(
        (t) => `${t.stationId} ×${t.alarms} ${t.alarmHours.toFixed(1)}h (${t.eventsPerHour.toFixed(2)}/h)`,
      );
    out.push(`  ${s.detector}: ${top.length > 0 ? top.join('; ') : 'none'}`);
  }
  return out.join('\n');
}

/** JSON without the bulky per-change list unless asked. */
export function reportJson(res: BacktestResult, withChanges = false): unknown {
  const { changes, ...rest } = res;
  return withChanges
    ? res
    : { ...rest, changes: Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v.length])) };
}
