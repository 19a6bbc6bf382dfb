/**
 * What the ROS 2 node needs from a shield: the Shield of src/inference satisfies it
 * (`shield.decide(obs, proposed, { stateStampMs })` → a reused { action, source, qRisk }), and so
 * does the pass-through decider used for recording demos.
 */
export type DecisionSource = 'task' | 'recovery' | 'failsafe';

export interface Decision {
  readonly action: Float32Array;
  readonly source: DecisionSource;
  /** Q_risk(s, a_task) ∈ [0, 1]; NaN where no critic ran (pass-through). */
  readonly qRisk: number;
}

export interface DecideOptions {
  stateStampMs?: number;
}

export interface Decider {
  decide(obs: Float32Array, proposed: Float32Array, options?: DecideOptions): Promise<Decision> | Decision;
}

/** Executes the controller's action unchanged (hard limits are applied by the node afterwards). */
export class PassThroughDecider implements Decider {
  readonly #decision: { action: Float32Array; source: DecisionSource; qRisk: number };

  constructor(actDim: number) {
    this.#decision = { action: new Float32Array(actDim), source: 'task', qRisk: Number.NaN };
  }

  decide(_obs: Float32Array, proposed: Float32Array): Decision {
    this.#decision.action.set(proposed);
    return this.#decision;
  }
}
