/**
 * Simulated time for the server: starts at `startSec` and runs `speed` times faster than the wall
 * clock (1440 = a simulated day per real minute; 0 = paused, time moves only by `advance`).
 * The model only ever sees whole steps, so what the feed shows at simulated time T does not depend
 * on when requests arrive.
 */
export class SimClock {
  private baseSimSec: number;
  private baseRealMs: number;

  constructor(
    startSec: number,
    private speedFactor: number,
    private readonly realNowMs: () => number = () => performance.now(),
  ) {
    if (!(speedFactor >= 0) || !Number.isFinite(speedFactor))
      throw new Error(`speed must be ≥ 0, got ${speedFactor}`);
    this.baseSimSec = startSec;
    this.baseRealMs = realNowMs();
  }

  get speed(): number {
    return this.speedFactor;
  }

  nowSec(): number {
    return this.baseSimSec + ((this.realNowMs() - this.baseRealMs) / 1000) * this.speedFactor;
  }

  /** Jumps simulated time forward (tests, demos). */
  advance(sec: number): void {
    if (!(sec >= 0)) throw new Error(`cannot move simulated time backwards (${sec} s)`);
    this.baseSimSec += sec;
  }

  setSpeed(speed: number): void {
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new Error(`speed must be ≥ 0, got ${speed}`);
    this.baseSimSec = this.nowSec();
    this.baseRealMs = this.realNowMs();
    this.speedFactor = speed;
  }

  /** Real milliseconds until simulated time reaches `simSec` (Infinity when paused). */
  realMsUntil(simSec: number): number {
    const ahead = simSec - this.nowSec();
    if (ahead <= 0) return 0;
    return this.speedFactor === 0 ? Infinity : (ahead / this.speedFactor) * 1000;
  }
}
