/** Backtest of detectors on recorded archives with injected faults (issue 5). */
export { backtest, type BacktestConfig, type BacktestResult } from './harness.js';
export {
  planFaults,
  bandOf,
  BUSYNESS_BANDS,
  STATION_FAULT_KINDS,
  type Fault,
  type StationFault,
  type OutageFault,
  type FaultKind,
  type StationFaultKind,
  type StationSummary,
  type PlanOptions,
} from './faults.js';
export { FaultInjector, type InjectionStats } from './inject.js';
export { episodesFrom, ALARM_STATES, STUCK_STATES, type AlarmEpisode } from './episodes.js';
export {
  scoreDetector,
  quantile,
  type DetectorScore,
  type Rates,
  type FaultOutcome,
  type StationExposure,
  type ScoreOptions,
} from './score.js';
export { TraceSummary } from './summary.js';
export { createRng, type Rng } from './prng.js';
export { formatReport, reportJson } from './report.js';
