/**
 * Today's system-wide level for the `poisson` detector: observed ÷ expected events of the whole
 * system over the last hours (exponentially weighted), shrunk toward 1 by pseudo-events and clamped.
 * Holidays, rain and system-wide dips lower every station's expectation at once instead of raising
 * an alarm at every station (idea: issue 5, "scaled by today's system-wide level"; the seed's ratio,
 * smoothed).
 */

/** Pseudo-events behind the level: keeps it near 1 when the system is quiet (night). */
const PRIOR_EVENTS = 30;
const MIN = 0.25;
const MAX = 2;

export type SystemLevelState = [number, number, number, number, number, number];

export class SystemLevel {
  level = 1;
  private obsEw = 0;
  private expEw = 0;
  /** Observed events and level-1 expected events since the last update (one document). */
  private docObserved = 0;
  private docExpected = 0;
  private lastSec = 0;

  constructor(private readonly halfLifeSec: number) {}

  observed(n: number): void {
    this.docObserved += n;
  }

  expected(x: number): void {
    this.docExpected += x;
  }

  /** Closes one document. */
  update(timeSec: number): void {
    const dt = this.lastSec > 0 ? timeSec - this.lastSec : 0;
    this.lastSec = timeSec;
    const decay = Math.pow(0.5, dt / this.halfLifeSec);
    this.obsEw = this.obsEw * decay + this.docObserved;
    this.expEw = this.expEw * decay + this.docExpected;
    this.docObserved = this.docExpected = 0;
    const level = (this.obsEw + PRIOR_EVENTS) / (this.expEw + PRIOR_EVENTS);
    this.level = level < MIN ? MIN : level > MAX ? MAX : level;
  }

  save(): SystemLevelState {
    return [this.level, this.obsEw, this.expEw, this.docObserved, this.docExpected, this.lastSec];
  }

  restore(s: SystemLevelState): void {
    [this.level, this.obsEw, this.expEw, this.docObserved, this.docExpected, this.lastSec] = s;
  }
}
