/**
 * The Recovery RL learner (thesis §3.3–3.4, Algorithm 1; reference notes §2 and §3.1): a twin
 * safety critic trained by TD regression against a Polyak-averaged target network, and a
 * model-free recovery policy trained to minimise max(Q1, Q2)(s, π_rec(s)) through the critic.
 * Each update is one ONNX graph run by ONNX Runtime (DESIGN.md decision 1).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { adam, exportInference, sgd, GraphBuilder, inferenceGraph, ParamSet, polyak, TrainingProgram, type Tensor } from '../nn/index.js';
import type { ModelCardInput } from '../config/model-card.js';
import type { Batch } from './batch-sampler.js';
import { critic, defaultSizes, recoveryPolicy, type NetworkSizes } from './networks.js';
import type { Normalizer } from './normalizer.js';

export interface SafetyLearnerOptions {
  readonly obsDim: number;
  readonly actDim: number;
  readonly actLow: ArrayLike<number>;
  readonly actHigh: ArrayLike<number>;
  readonly normalizer: Normalizer;
  readonly gammaRisk: number;
  readonly batch: number;
  readonly lr: number;
  readonly tau: number;
  readonly seed: number;
  readonly threads?: number;
  readonly sizes?: NetworkSizes;
  /**
   * When set, the critic takes plain SGD steps with this learning rate per parameter tensor
   * (by name) instead of Adam at `lr`: MESA's meta-learned inner step (Meta-SGD) as the
   * adaptation. Every critic tensor must have one; the recovery policy keeps Adam at `lr`.
   */
  readonly criticSgdLrs?: Readonly<Record<string, number>>;
}

export interface UpdateResult {
  criticLoss: number;
  recoveryLoss: number;
}

export const CRITIC_FILE = 'critic.onnx';
export const RECOVERY_FILE = 'recovery.onnx';

/**
 * The critic's TD step on a graph: y = c + (1 − done)·γ_risk·qNextMax, L = MSE(Q1, y) +
 * MSE(Q2, y) as output 'loss', Adam on the critic, Polyak of the target (reference §2).
 */
export function criticUpdate(
  g: GraphBuilder,
  params: ParamSet,
  target: ParamSet,
  q: { q1: Tensor; q2: Tensor },
  qNextMax: Tensor,
  cost: Tensor,
  done: Tensor,
  o: { readonly gammaRisk: number; readonly lr: number; readonly tau: number; readonly criticSgdLrs?: Readonly<Record<string, number>> },
): void {
  const y = g.add(cost, g.mul(g.sub(1, done), g.mul(qNextMax, o.gammaRisk)));
  const loss = g.add(g.mean(g.square(g.sub(q.q1, y))), g.mean(g.square(g.sub(q.q2, y))));
  g.output('loss', loss);
  const ps = params.trainable();
  const grads = g.gradients(loss, ps);
  const lrs = o.criticSgdLrs;
  if (lrs === undefined) adam(g, params, grads, { lr: o.lr, name: 'critic_adam' });
  else {
    const scaled = ps.map((p, i) => {
      const lr = lrs[p.name];
      if (lr === undefined || !Number.isFinite(lr) || lr <= 0) throw new RShieldError('E_MODEL', `no positive SGD learning rate for critic tensor '${p.name}' (got ${String(lr)})`, { param: p.name });
      return g.mul(grads[i]!, lr);
    });
    sgd(g, ps, scaled, { lr: 1, name: 'critic_sgd' });
  }
  polyak(g, target, params, o.tau);
}

/** The recovery step: minimise mean max(Q1, Q2)(s, ã) (output 'loss') by Adam on the policy only (reference §3.1). */
export function recoveryUpdate(g: GraphBuilder, policy: ParamSet, qMax: Tensor, lr: number): void {
  const loss = g.mean(qMax);
  g.output('loss', loss);
  adam(g, policy, g.gradients(loss, policy.trainable()), { lr, name: 'recovery_adam' });
}

export class SafetyLearner {
  private readonly result: UpdateResult = { criticLoss: 0, recoveryLoss: 0 };
  private readonly recoveryFeed: { obs: Float32Array };
  updates = 0;

  private constructor(
    readonly opts: SafetyLearnerOptions,
    private readonly criticParams: ParamSet,
    private readonly targetParams: ParamSet,
    private readonly policyParams: ParamSet,
    private readonly criticStep: TrainingProgram,
    private readonly recoveryStep: TrainingProgram,
  ) {
    this.recoveryFeed = { obs: new Float32Array(opts.batch * opts.obsDim) };
  }

  static async create(opts: SafetyLearnerOptions): Promise<SafetyLearner> {
    const rng = new Rng(opts.seed);
    const criticParams = ParamSet.create({ rng: rng.fork() });
    const policyParams = ParamSet.create({ rng: rng.fork() });
    return SafetyLearner.#compile(opts, criticParams, undefined, policyParams, rng);
  }

  /**
   * A learner on the same networks (the updates of either move both) with its own Adam at
   * `lr`, moments fresh: MESA phase 2's adaptation steps (lr 1e-3, reference `update_parameters`)
   * beside the online learner's. Release it when done; the networks stay.
   */
  async withLearningRate(lr: number, seed: number): Promise<SafetyLearner> {
    return SafetyLearner.#compile({ ...this.opts, lr, seed }, this.criticParams, this.targetParams, this.policyParams, new Rng(seed));
  }

  static async #compile(opts: SafetyLearnerOptions, criticParams: ParamSet, existingTarget: ParamSet | undefined, policyParams: ParamSet, rng: Rng): Promise<SafetyLearner> {
    const { obsDim: S, actDim: A, batch: B, normalizer: n } = opts;
    const sizes = opts.sizes ?? defaultSizes;

    // Critic step: y = c + (1 − done)·γ_risk·max(Q1′, Q2′)(s′, a′); L = MSE(Q1, y) + MSE(Q2, y).
    const g = new GraphBuilder('critic_step');
    const obs = g.input('obs', [B, S]);
    const act = g.input('act', [B, A]);
    const cost = g.input('cost', [B, 1]);
    const nextObs = g.input('next_obs', [B, S]);
    const nextAct = g.input('next_act', [B, A]);
    const done = g.input('done', [B, 1]);
    const q = critic(g, criticParams, obs, act, n, sizes);
    const target = existingTarget ?? criticParams.copy('target');
    const qNext = critic(g, target, nextObs, nextAct, n, sizes);
    criticUpdate(g, criticParams, target, q, qNext.max, cost, done, opts);

    // Recovery step: minimise mean max(Q1, Q2)(s, ã), ã = π_rec(s) reparameterised; the critic
    // is read, not trained, here.
    const r = new GraphBuilder('recovery_step');
    const robs = r.input('obs', [B, S]);
    const pol = recoveryPolicy(r, policyParams, robs, n, r.noise('eps', [B, A]), sizes);
    recoveryUpdate(r, policyParams, critic(r, criticParams, robs, pol.sample!, n, sizes).max, opts.lr);

    const threads = opts.threads ?? 2;
    const criticStep = await TrainingProgram.compile(g, { threads, rng: rng.fork() });
    const recoveryStep = await TrainingProgram.compile(r, { threads, rng: rng.fork() });
    return new SafetyLearner(opts, criticParams, target, policyParams, criticStep, recoveryStep);
  }

  /** One critic update and one recovery update on the same batch (reference `update_parameters`). */
  async update(batch: Batch): Promise<UpdateResult> {
    const c = await this.criticStep.step(batch as unknown as Record<string, Float32Array>);
    this.result.criticLoss = c.loss ?? Number.NaN;
    this.recoveryFeed.obs.set(batch.obs);
    const r = await this.recoveryStep.step(this.recoveryFeed);
    this.result.recoveryLoss = r.loss ?? Number.NaN;
    this.updates++;
    return this.result;
  }

  /**
   * One recovery update alone on `obs` [batch, obsDim], against the critic as it is: MESA's
   * meta-training moves the critic through its own program and trains π_rec this way.
   */
  async updateRecovery(obs: Float32Array): Promise<number> {
    this.recoveryFeed.obs.set(obs);
    const r = await this.recoveryStep.step(this.recoveryFeed);
    return r.loss ?? Number.NaN;
  }

  /** critic(obs [N,S], act [N,A]) → q_risk [N,1] and recovery(obs [N,S]) → action [N,A] as ONNX bytes. */
  exportOnnx(): { critic: Uint8Array; recovery: Uint8Array } {
    const { obsDim: S, actDim: A, normalizer: n } = this.opts;
    const sizes = this.opts.sizes ?? defaultSizes;
    const cg = inferenceGraph('critic');
    const q = critic(cg, this.criticParams, cg.input('obs', ['N', S]), cg.input('act', ['N', A]), n, sizes);
    cg.output('q_risk', q.max);
    const rg = inferenceGraph('recovery');
    const pol = recoveryPolicy(rg, this.policyParams, rg.input('obs', ['N', S]), n, undefined, sizes);
    rg.output('action', pol.mean);
    return {
      critic: exportInference(cg, { description: 'rshield safety critic: max of twin sigmoid heads' }).onnx,
      recovery: exportInference(rg, { description: 'rshield model-free recovery policy (mean action)' }).onnx,
    };
  }

  /** Writes critic.onnx, recovery.onnx and model.json into `dir`; returns the card written. */
  async writeModelDir(dir: string, card: Omit<ModelCardInput, 'critic' | 'recovery' | 'obsDim' | 'actDim' | 'actLow' | 'actHigh' | 'gammaRisk' | 'format'>): Promise<ModelCardInput> {
    const onnx = this.exportOnnx();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, CRITIC_FILE), onnx.critic);
    await writeFile(join(dir, RECOVERY_FILE), onnx.recovery);
    const full: ModelCardInput = {
      format: 'rshield-model/1',
      ...card,
      obsDim: this.opts.obsDim,
      actDim: this.opts.actDim,
      actLow: Array.from(this.opts.actLow),
      actHigh: Array.from(this.opts.actHigh),
      gammaRisk: this.opts.gammaRisk,
      critic: { file: CRITIC_FILE, inputs: { obs: 'obs', act: 'act' }, output: 'q_risk' },
      recovery: { file: RECOVERY_FILE, input: 'obs', output: 'action' },
    };
    await writeFile(join(dir, 'model.json'), `${JSON.stringify(full, null, 2)}\n`);
    return full;
  }

  /**
   * Q_risk of many (s, a) rows through the exported critic (validation); `critic` scores an
   * earlier export of this learner instead (the online quality gate's reference).
   */
  async scoreCritic(obs: Float32Array, act: Float32Array, critic?: Uint8Array): Promise<Float32Array> {
    const { obsDim: S, actDim: A } = this.opts;
    const n = obs.length / S;
    const session = await ort.InferenceSession.create(critic ?? this.exportOnnx().critic, { intraOpNumThreads: this.opts.threads ?? 2 });
    try {
      const out = await session.run({ obs: new ort.Tensor('float32', obs, [n, S]), act: new ort.Tensor('float32', act, [n, A]) });
      return out.q_risk!.data as Float32Array;
    } finally {
      await session.release();
    }
  }

  /**
   * Starts from trained weights (e.g. a model directory's ONNX initializers): the critic and
   * its target get `critic`, the policy `policy`. Every critic parameter must be present;
   * policy parameters the inference graph does not hold (log σ) keep their initial values.
   */
  loadWeights(critic: ReadonlyMap<string, ArrayLike<number>>, policy: ReadonlyMap<string, ArrayLike<number>>): void {
    const set = (ps: ParamSet, source: ReadonlyMap<string, ArrayLike<number>>, name: (p: string) => string, required: boolean): void => {
      for (const p of ps.list()) {
        const v = source.get(name(p.name));
        if (v === undefined) {
          if (required) throw new RShieldError('E_MODEL', `weights lack parameter ${name(p.name)}`, { param: p.name });
          continue;
        }
        if (v.length !== p.size) throw new RShieldError('E_MODEL', `parameter ${p.name} has ${v.length} values, the network expects ${p.size}`, { param: p.name });
        p.value.set(v);
      }
    };
    set(this.criticParams, critic, (n) => n, true);
    set(this.targetParams, critic, (n) => n.slice(this.targetParams.prefix.length + 1), true);
    set(this.policyParams, policy, (n) => n, false);
  }

  /**
   * The live parameter sets (critic, recovery policy) and widths, for graphs that read the
   * current weights without training them: the online loop's acting graph, the constrained
   * SAC baselines' safety terms.
   */
  get networks(): { readonly critic: ParamSet; readonly policy: ParamSet; readonly sizes: NetworkSizes } {
    return { critic: this.criticParams, policy: this.policyParams, sizes: this.opts.sizes ?? defaultSizes };
  }

  async release(): Promise<void> {
    await this.criticStep.release();
    await this.recoveryStep.release();
  }
}
