/**
 * The silence test of the `poisson` detector: is a silence of expected size Λ unlikely enough to
 * raise an alarm? P(no event | Λ) under a negative binomial of shape κ (poisson-math.ts), with κ
 * widened by the uncertainty of the learned rate: day-to-day over-dispersion (κ0) and a gamma
 * posterior of shape a (the events the rate was learned from) add up as variances of the gamma
 * mixing, 1/κ = 1/κ0 + 1/a (Gelman et al., Bayesian Data Analysis, §2.6). A station with few
 * learned events needs a longer silence; a busy one keeps κ ≈ κ0.
 */
import { silenceP, silenceThreshold } from './poisson-math.js';

export class SilenceTest {
  /** The smallest Λ that can pass (κ = κ0): checked first, so that pow() runs only near an alarm. */
  readonly minLambda: number;

  constructor(
    /** Alarm when P(silence) < p; 0 = never. */
    readonly p: number,
    private readonly kappa0: number,
    private readonly rateUncertainty: boolean,
  ) {
    this.minLambda = p > 0 ? silenceThreshold(p, kappa0) : Number.POSITIVE_INFINITY;
  }

  /** κ for a rate learned from `learnedEvents` events. */
  kappa(learnedEvents: number): number {
    if (!this.rateUncertainty || learnedEvents <= 0) return this.kappa0;
    return 1 / (1 / this.kappa0 + 1 / learnedEvents);
  }

  /** Λ above which the silence is an alarm, for a rate learned from `learnedEvents` events. */
  threshold(learnedEvents: number): number {
    return silenceThreshold(this.p, this.kappa(learnedEvents));
  }

  /** Whether a silence of expected size Λ raises an alarm. */
  passes(lambda: number, learnedEvents: number): boolean {
    return lambda > this.minLambda && lambda > this.threshold(learnedEvents);
  }

  /** P(no event | Λ): the p-value of the silence (the alarm's confidence is 1 − it). */
  pValue(lambda: number, learnedEvents: number): number {
    return silenceP(lambda, this.kappa(learnedEvents));
  }
}
