/**
 * The `seed` detector's system-wide ratio: actual ÷ expected activity of all (judged) stations over
 * the last window, so that a rainy day or a holiday does not look like a city of locked stations.
 * Actual activity comes from the events the detector sees, not from the activity model, so that
 * re-processing after a restart gives the same numbers. Blind intervals are left out of both sides.
 */
export class SystemRatio {
  private times: number[] = [];
  private actual: number[] = [];
  private expected: number[] = [];
  /** Activity seen in the document being read (closed by its snapshot). */
  private pending = 0;

  constructor(
    private readonly windowSec: number,
    private readonly maxRatio: number,
  ) {}

  addActivity(count: number): void {
    this.pending += count;
  }

  /**
   * Closes the document at `timeSec` that covered `observedSec` of feed time (0 when blind: its net
   * changes span the gap) while `expectedPerWindow` activity was expected per window. Returns the
   * ratio clamped to [0, maxRatio]; 1 when nothing is expected (night, no history yet).
   */
  close(timeSec: number, observedSec: number, expectedPerWindow: number): number {
    if (observedSec > 0) {
      this.times.push(timeSec);
      this.actual.push(this.pending);
      this.expected.push((expectedPerWindow * observedSec) / this.windowSec);
    }
    this.pending = 0;
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= timeSec - this.windowSec) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      this.actual.splice(0, drop);
      this.expected.splice(0, drop);
    }
    let act = 0;
    let exp = 0;
    for (let i = 0; i < this.times.length; i++) {
      act += this.actual[i]!;
      exp += this.expected[i]!;
    }
    if (exp <= 0) return 1;
    return Math.min(this.maxRatio, Math.max(0, act / exp));
  }

  save(): unknown {
    return {
      times: [...this.times],
      actual: [...this.actual],
      expected: [...this.expected],
      pending: this.pending,
    };
  }

  restore(state: unknown): void {
    const s = state as { times: number[]; actual: number[]; expected: number[]; pending: number };
    this.times = [...s.times];
    this.actual = [...s.actual];
    this.expected = [...s.expected];
    this.pending = s.pending;
  }
}
