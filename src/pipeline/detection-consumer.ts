import type { ActivityView, Detector, StateChange } from '../detection/index.js';
import { StationStateMachine } from '../detection/index.js';
import type { LoggedEvent } from '../events/index.js';
import { metrics } from '../metrics/index.js';
import type { DetectedStateRow, Store } from '../storage/types.js';

const CHECKPOINT_VERSION = 1;

interface Checkpoint {
  version: number;
  detector: unknown;
  machine: unknown;
}

/**
 * Consumer `detector:<system>:<name>`: runs one detector and the station state machine over the
 * log. Saving the detector's whole state at every document would dominate the replay, so it
 * checkpoints every `checkpointEverySnapshots` documents; after a crash it restores the checkpoint
 * and re-processes the events after it. Detectors are deterministic and state changes are stored
 * idempotently (keyed by the causing event's offset), so the re-run writes nothing twice.
 */
export class DetectionConsumer {
  readonly name: string;
  readonly machine: StationStateMachine;
  private offset = 0;
  private snapshotsSinceCheckpoint = 0;

  constructor(
    private readonly store: Store,
    readonly system: string,
    readonly detector: Detector,
    private readonly activity: ActivityView,
    private readonly opts: { checkpointEverySnapshots: number; onChange?: (change: StateChange) => void },
  ) {
    this.name = `detector:${system}:${detector.name}`;
    this.machine = new StationStateMachine(system);
  }

  get processedOffset(): number {
    return this.offset;
  }

  async init(): Promise<void> {
    const checkpoint = await this.store.loadCheckpoint(this.name);
    if (checkpoint === null) return;
    const saved = checkpoint.state as Checkpoint;
    if (saved?.version !== CHECKPOINT_VERSION) {
      throw new Error(`${this.name}: checkpoint format ${String(saved?.version)} is not supported`);
    }
    this.detector.restoreState(saved.detector);
    this.machine.restoreState(saved.machine);
    this.offset = checkpoint.offset;
  }

  async process(
    events: readonly LoggedEvent[],
    opts: { forceCheckpoint?: boolean } = {},
  ): Promise<StateChange[]> {
    const started = process.hrtime.bigint();
    const changes: StateChange[] = [];
    let last = this.offset;
    for (const event of events) {
      if (event.offset <= last) continue;
      last = event.offset;
      if (event.system !== this.system) continue;
      if (event.type === 'snapshot') this.snapshotsSinceCheckpoint++;
      const detected = this.detector.handle(event, this.activity);
      const shown = this.machine.apply(event, detected);
      for (const c of shown) changes.push(c);
    }
    if (last === this.offset && !opts.forceCheckpoint) return changes;
    const due =
      opts.forceCheckpoint === true || this.snapshotsSinceCheckpoint >= this.opts.checkpointEverySnapshots;
    const checkpoint: Checkpoint | undefined = due
      ? {
          version: CHECKPOINT_VERSION,
          detector: this.detector.saveState(),
          machine: this.machine.saveState(),
        }
      : undefined;
    await this.store.commitDetection(this.name, last, changes, checkpoint);
    if (due) this.snapshotsSinceCheckpoint = 0;
    this.offset = last;
    if (changes.length > 0) await this.store.saveDetectedStates(this.system, this.rowsFor(changes));
    for (const c of changes) {
      metrics.stateChanges.inc({ system: this.system, to: c.to, detector: c.detector });
      this.opts.onChange?.(c);
    }
    metrics.detectorSeconds.observe(
      { system: this.system, detector: this.detector.name },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    return changes;
  }

  /** Writes every station's current state (after a restart, the view may lag the re-run). */
  async saveAllStates(): Promise<void> {
    const rows: DetectedStateRow[] = [];
    for (const [stationId, s] of this.machine.states()) {
      rows.push({
        stationId,
        state: s.state,
        sinceSec: s.sinceSec,
        confidence: s.confidence,
        detector: s.detector,
      });
    }
    await this.store.saveDetectedStates(this.system, rows);
  }

  private rowsFor(changes: readonly StateChange[]): DetectedStateRow[] {
    const latest = new Map<string, StateChange>();
    for (const c of changes) latest.set(c.stationId, c);
    const rows: DetectedStateRow[] = [];
    for (const c of latest.values()) {
      rows.push({
        stationId: c.stationId,
        state: c.to,
        sinceSec: c.timeSec,
        confidence: c.confidence,
        detector: c.detector,
      });
    }
    return rows;
  }
}
