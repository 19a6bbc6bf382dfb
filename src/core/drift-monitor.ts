/**
 * Does the running critic still fit the robot? (MESA's motivation, thesis ch. 5: a critic
 * trained on the old robot misjudges the changed one.) Two signs, from what the shield sees
 * anyway, with no extra inference:
 *   - missed violations: a violation right after the critic rated the controller's action safe;
 *   - the TD error of the decisions themselves, q_t − (c_t + (1 − done)·γ·q_{t+1}), where q_t is
 *     the Q_risk of the proposed action at tick t — the quantity the critic was trained on
 *     (a′ ~ the controller's next proposal). Its root mean square is an exponential average.
 * Allocation-free per tick; `snapshot()` allocates.
 */
export interface DriftOptions {
  /** γ_risk of the running model; without it only missed violations are counted. */
  readonly gammaRisk?: number;
  /** Horizon of the TD error's exponential average, in transitions (default 500). */
  readonly window?: number;
  /** RMS TD error above which drift is suspected, once `window` transitions were seen (default 0.25). */
  readonly tdErrorLimit?: number;
  /** Missed violations at which drift is suspected (default 1). */
  readonly missedLimit?: number;
}

export interface DriftStats {
  /** Transitions observed since the model was installed. */
  readonly transitions: number;
  readonly violations: number;
  /** Violations right after a tick whose proposed action the critic rated safe. */
  readonly missedViolations: number;
  /** RMS TD error of the decisions (null without γ_risk or before the first target). */
  readonly tdErrorRms: number | null;
  readonly suspected: boolean;
}

export class DriftMonitor {
  readonly #gamma: number | undefined;
  readonly #alpha: number;
  readonly #window: number;
  readonly #tdLimit: number;
  readonly #missedLimit: number;
  #transitions = 0;
  #violations = 0;
  #missed = 0;
  #meanSq = 0;
  #targets = 0;
  #pendingQ = Number.NaN;
  #pendingCost = 0;

  constructor(o: DriftOptions = {}) {
    this.#gamma = o.gammaRisk;
    this.#window = o.window ?? 500;
    this.#alpha = 1 / this.#window;
    this.#tdLimit = o.tdErrorLimit ?? 0.25;
    this.#missedLimit = o.missedLimit ?? 1;
  }

  /**
   * One executed step: `qRisk` of the proposed action at its tick, whether the critic rated it
   * safe (the task action ran), and what the step did.
   */
  observe(qRisk: number, ratedSafe: boolean, violation: boolean, done: boolean): void {
    this.#transitions++;
    if (violation) {
      this.#violations++;
      if (ratedSafe) this.#missed++;
    }
    if (this.#gamma === undefined) return;
    if (!Number.isFinite(qRisk)) {
      this.#pendingQ = Number.NaN; // a fail-safe tick has no Q_risk: no target across it
      return;
    }
    if (!Number.isNaN(this.#pendingQ)) this.#add(this.#pendingQ - (this.#pendingCost + this.#gamma * qRisk));
    const cost = violation ? 1 : 0;
    if (done) {
      // Terminal: the target is the cost alone (violations end episodes).
      this.#add(qRisk - cost);
      this.#pendingQ = Number.NaN;
    } else {
      this.#pendingQ = qRisk;
      this.#pendingCost = cost;
    }
  }

  /** The (s, a, s′) chain broke (a hold, a stop): no TD target spans the gap. */
  interrupt(): void {
    this.#pendingQ = Number.NaN;
  }

  /**
   * The signs behind a suspicion, in words ("missed violations 3", "TD-error RMS 0.4100 > 0.25");
   * empty when `snapshot().suspected` is false.
   */
  signs(): string[] {
    const signs: string[] = [];
    if (this.#missed >= this.#missedLimit) signs.push(`missed violations ${this.#missed}`);
    const rms = Math.sqrt(this.#meanSq);
    if (this.#tdDrift()) signs.push(`TD-error RMS ${rms.toFixed(4)} > ${this.#tdLimit}`);
    return signs;
  }

  /** A new model: its fit is judged afresh. */
  reset(): void {
    this.#transitions = this.#violations = this.#missed = this.#meanSq = this.#targets = 0;
    this.#pendingQ = Number.NaN;
  }

  snapshot(): DriftStats {
    const rms = this.#targets === 0 ? null : Math.sqrt(this.#meanSq);
    return {
      transitions: this.#transitions,
      violations: this.#violations,
      missedViolations: this.#missed,
      tdErrorRms: rms === null ? null : Number(rms.toFixed(4)),
      suspected: this.#missed >= this.#missedLimit || this.#tdDrift(),
    };
  }

  #tdDrift(): boolean {
    return this.#targets > 0 && this.#targets >= this.#window && Math.sqrt(this.#meanSq) > this.#tdLimit;
  }

  #add(err: number): void {
    this.#targets++;
    // Plain mean until the window fills, then exponential: early values are not over-weighted.
    const a = this.#targets < this.#window ? 1 / this.#targets : this.#alpha;
    this.#meanSq += a * (err * err - this.#meanSq);
  }
}
