/**
 * SQRL's action filter (reference notes §4): draw K actions from the task policy, keep those
 * with max Q_risk(s, a) ≤ ε, pick one with probability ∝ π(a|s) among them; when none passes,
 * the one of least risk. One graph evaluates all K draws and their risks.
 */
import type { Rng } from '../../core/rng.js';
import { GraphBuilder, TrainingProgram } from '../../nn/index.js';
import { critic, type NetworkSizes } from '../networks.js';
import type { ParamSet } from '../../nn/index.js';
import type { Normalizer } from '../normalizer.js';
import type { SacAgent } from '../sac/sac-agent.js';
import { sacPolicy } from '../sac/sac-networks.js';

export class SqrlFilter {
  readonly #feed: { obs: Float32Array };
  readonly #out: Float32Array;
  readonly #weights: Float64Array;

  private constructor(
    private readonly program: TrainingProgram,
    private readonly samples: number,
    obsDim: number,
    private readonly actDim: number,
    private readonly epsRisk: number,
  ) {
    this.#feed = { obs: new Float32Array(obsDim) };
    this.#out = new Float32Array(actDim);
    this.#weights = new Float64Array(samples);
  }

  static async create(agent: SacAgent, safety: { critic: ParamSet; sizes: NetworkSizes }, normalizer: Normalizer, o: { samples: number; epsRisk: number; seed: number }): Promise<SqrlFilter> {
    const { obsDim: S, actDim: A } = agent.opts;
    const K = o.samples;
    const g = new GraphBuilder('sqrl_filter');
    const obs = g.expand(g.input('obs', [1, S]), [K, S]);
    const head = sacPolicy(g, agent.policyParams, obs, normalizer, agent.sizes, g.noise('eps', [K, A]));
    g.output('actions', head.action!);
    g.output('log_prob', head.logProb!);
    g.output('q_risk', critic(g, safety.critic, obs, head.action!, normalizer, safety.sizes).max);
    const program = await TrainingProgram.compile(g, { threads: 1, rng: o.seed });
    return new SqrlFilter(program, K, S, A, o.epsRisk);
  }

  /** The filtered action for `obs` (an array owned by the filter). */
  async act(obs: ArrayLike<number>, rng: Rng): Promise<Float32Array> {
    this.#feed.obs.set(obs);
    await this.program.step(this.#feed);
    const actions = this.program.output('actions');
    const logp = this.program.output('log_prob');
    const q = this.program.output('q_risk');
    let best = 0;
    let maxLog = -Infinity;
    for (let k = 0; k < this.samples; k++) {
      if (q[k]! < q[best]!) best = k;
      if (q[k]! <= this.epsRisk && logp[k]! > maxLog) maxLog = logp[k]!;
    }
    let pick = best;
    if (maxLog > -Infinity) {
      let total = 0;
      for (let k = 0; k < this.samples; k++) {
        const w = q[k]! <= this.epsRisk ? Math.exp(logp[k]! - maxLog) : 0;
        this.#weights[k] = w;
        total += w;
      }
      let u = rng.next() * total;
      for (let k = 0; k < this.samples; k++) {
        if (this.#weights[k]! === 0) continue;
        pick = k; // the last passing draw absorbs rounding at the end
        u -= this.#weights[k]!;
        if (u < 0) break;
      }
    }
    for (let j = 0; j < this.actDim; j++) this.#out[j] = actions[pick * this.actDim + j]!;
    return this.#out;
  }

  async close(): Promise<void> {
    await this.program.release();
  }
}
