/**
 * The safety critic and recovery policy being trained, as the core's RiskModel: one graph of
 * batch 1 reads the learner's current weights (no export, no reload) and gives
 * max(Q1, Q2)(s, a) and π_rec(s) in the same pass, so the shield core (src/core/shield-core.ts)
 * decides every step of the online loop with the weights of the latest update.
 */
import type { RiskModel } from '../../core/risk-model.js';
import { GraphBuilder, TrainingProgram } from '../../nn/index.js';
import { critic, recoveryPolicy } from '../networks.js';
import type { Normalizer } from '../normalizer.js';
import type { SafetyLearner } from '../safety-learner.js';

export interface LiveRiskModelOptions {
  /** 'sample' (the reference: the executed recovery action is a draw of π_rec) or 'mean'. */
  readonly recoveryAction?: 'sample' | 'mean';
  readonly seed: number;
}

export class LiveRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #feed: { obs: Float32Array; act: Float32Array };
  readonly #output: 'sample' | 'mean';

  private constructor(
    private readonly program: TrainingProgram,
    obsDim: number,
    actDim: number,
    output: 'sample' | 'mean',
  ) {
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.#output = output;
    this.#feed = { obs: new Float32Array(obsDim), act: new Float32Array(actDim) };
  }

  static async create(learner: SafetyLearner, normalizer: Normalizer, o: LiveRiskModelOptions): Promise<LiveRiskModel> {
    const { obsDim: S, actDim: A } = learner.opts;
    const { critic: cp, policy: pp, sizes } = learner.networks;
    const g = new GraphBuilder('live_risk');
    const obs = g.input('obs', [1, S]);
    const q = critic(g, cp, obs, g.input('act', [1, A]), normalizer, sizes);
    const pol = recoveryPolicy(g, pp, obs, normalizer, g.noise('eps', [1, A]), sizes);
    g.output('q_risk', q.max);
    g.output('sample', pol.sample!);
    g.output('mean', pol.mean);
    const program = await TrainingProgram.compile(g, { threads: 1, rng: o.seed });
    return new LiveRiskModel(program, S, A, o.recoveryAction ?? 'sample');
  }

  async risk(obs: ArrayLike<number>, act: ArrayLike<number>): Promise<number> {
    this.#feed.obs.set(obs);
    this.#feed.act.set(act);
    const out = await this.program.step(this.#feed);
    return out.q_risk ?? Number.NaN;
  }

  /** π_rec(s) of the pass `risk` just ran (the core asks only after a risk call on the same obs). */
  recovery(): Float32Array {
    return this.program.output(this.#output) as Float32Array;
  }

  async close(): Promise<void> {
    await this.program.release();
  }
}
