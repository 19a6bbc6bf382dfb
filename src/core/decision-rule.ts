/**
 * The Recovery RL decision rule (thesis ch. 3, "recovery policy"; reference section 0):
 *   a = a_task  if Q_risk(s, a_task) ≤ ε_risk,  else  a = π_rec(s),
 * with optional hysteresis: once in recovery, stay there until Q_risk < ε_risk − h, so a risk
 * hovering around ε does not make the robot chatter between the two policies.
 */
export type DecisionSource = 'task' | 'recovery';

export interface DecisionRuleOptions {
  /** ε_risk ∈ [0, 1]. */
  readonly epsRisk: number;
  /** h ≥ 0; 0 disables hysteresis. */
  readonly hysteresis: number;
}

export class DecisionRule {
  readonly epsRisk: number;
  readonly hysteresis: number;
  readonly #exitBelow: number;
  #inRecovery = false;

  constructor(opts: DecisionRuleOptions) {
    if (!(opts.epsRisk >= 0 && opts.epsRisk <= 1)) throw new RangeError(`epsRisk ${opts.epsRisk} is outside [0, 1]`);
    if (!(opts.hysteresis >= 0 && opts.hysteresis <= opts.epsRisk)) {
      throw new RangeError(`hysteresis ${opts.hysteresis} must be in [0, epsRisk = ${opts.epsRisk}]`);
    }
    this.epsRisk = opts.epsRisk;
    this.hysteresis = opts.hysteresis;
    this.#exitBelow = opts.epsRisk - opts.hysteresis;
  }

  /** Whether the last decision was recovery (the hysteresis state). */
  get inRecovery(): boolean {
    return this.#inRecovery;
  }

  /** Decides for one tick from Q_risk(s, a_task) and updates the hysteresis state. */
  choose(qRisk: number): DecisionSource {
    if (this.#inRecovery && this.hysteresis > 0) {
      this.#inRecovery = !(qRisk < this.#exitBelow);
    } else {
      this.#inRecovery = qRisk > this.epsRisk;
    }
    return this.#inRecovery ? 'recovery' : 'task';
  }

  /** Back to task mode (new episode, or after a fail-safe tick whose risk is unknown). */
  reset(): void {
    this.#inRecovery = false;
  }
}

/** out[i] = clamp(src[i], low[i], high[i]). Non-allocating; `out` may be `src`. */
export function clampInto(out: Float32Array, src: ArrayLike<number>, low: Float32Array, high: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const v = src[i] as number;
    const lo = low[i] as number;
    const hi = high[i] as number;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
