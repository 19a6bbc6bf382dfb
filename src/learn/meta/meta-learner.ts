/**
 * MESA's meta-learner (thesis ch. 5, Algorithm 2; reference notes §6.2): second-order MAML over
 * the safety critic. Per task of a meta-batch, one differentiable SGD step on an inner TD batch
 * with a learned per-tensor learning rate softplus(ℓ) (Meta-SGD), then the TD loss of the
 * adapted critic on an outer batch; the mean outer loss is differentiated through the inner
 * step (second order: the gradient graph is itself differentiated, src/nn/autodiff.ts) and
 * applied by Adam with global-norm clipping; ℓ has its own Adam. The whole meta-iteration is
 * one ONNX graph and one `session.run`.
 *
 * The critic is the ordinary twin critic (src/learn/networks.ts), not the reference's
 * weight-transform (WLinear) layers: adapting and exporting it then needs nothing new — the
 * meta-trained weights are an ordinary model directory that `rshield adapt`, the shield and
 * the online trainer load. docs/learning.md ("MESA") says why and what that costs.
 */
import { Rng } from '../../core/rng.js';
import { adam, GraphBuilder, ParamSet, polyak, TrainingProgram, type Param, type Tensor } from '../../nn/index.js';
import type { ModelCardInput } from '../../config/model-card.js';
import type { Batch } from '../batch-sampler.js';
import { critic, defaultSizes, normalizeAct, normalizeObs, type NetworkSizes } from '../networks.js';
import type { Normalizer } from '../normalizer.js';
import { SafetyLearner, type SafetyLearnerOptions } from '../safety-learner.js';
import type { MetaDefaults } from './meta-defaults.js';

/** The learner's sizes and robot (as the Recovery RL learner's) and the meta-optimiser (meta-defaults.ts). */
export interface MetaLearnerOptions extends Omit<SafetyLearnerOptions, 'lr'>, Omit<MetaDefaults, 'iterations' | 'batch'> {}

/** The two batches a task contributes to one meta-iteration. */
export interface TaskBatches {
  readonly inner: Batch;
  readonly outer: Batch;
}

export interface MetaStepResult {
  /** Mean TD loss of the adapted critics on their outer batches (what the meta-update minimises). */
  outerLoss: number;
  /** Mean TD loss of the meta critic on the inner batches, before adaptation. */
  innerLoss: number;
  recoveryLoss: number;
}

const BATCH_KEYS = ['obs', 'act', 'cost', 'next_obs', 'next_act', 'done'] as const;
type BatchKey = (typeof BATCH_KEYS)[number];
/** A TD minibatch as graph tensors, named as the Batch arrays. */
export type TdBatch = Record<BatchKey, Tensor>;

/** Inverse of softplus: ℓ with softplus(ℓ) = lr. */
function softplusInverse(lr: number): number {
  return Math.log(Math.expm1(lr));
}

export class MetaLearner {
  private readonly result: MetaStepResult = { outerLoss: 0, innerLoss: 0, recoveryLoss: 0 };
  private readonly feed: Record<string, Float32Array> = {};
  iterations = 0;

  private constructor(
    readonly opts: MetaLearnerOptions,
    /** Holds the critic the meta-step trains, the recovery policy and the export path. */
    private readonly base: SafetyLearner,
    private readonly lrParams: readonly Param[],
    private readonly criticNames: readonly string[],
    private readonly metaStep: TrainingProgram,
  ) {}

  static async create(opts: MetaLearnerOptions): Promise<MetaLearner> {
    const { obsDim: S, actDim: A, batch: B, metaBatch: K, normalizer: n } = opts;
    const sizes = opts.sizes ?? defaultSizes;
    const rng = new Rng(opts.seed);
    const base = await SafetyLearner.create({
      obsDim: S, actDim: A, actLow: opts.actLow, actHigh: opts.actHigh, normalizer: n, gammaRisk: opts.gammaRisk,
      batch: B, lr: opts.recoveryLr, tau: opts.tau, seed: rng.nextUint32(), sizes,
      ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    });
    const criticParams = base.networks.critic;
    const ps = criticParams.trainable();
    const target = criticParams.copy('meta_target');
    const lrSet = ParamSet.create({ rng: rng.fork() }).scope('inner_lr');
    const lrParams = ps.map((p) => lrSet.get(p.name, [1], { kind: 'const', value: softplusInverse(opts.innerLr) }));

    const g = new GraphBuilder('meta_step');
    const theta = ps.map((p) => g.use(p));
    const ell = lrParams.map((p) => g.use(p));
    const innerLrs = ell.map((l) => g.softplus(l));
    const batchInput = (prefix: string): TdBatch => {
      const dims: Record<BatchKey, number> = { obs: S, act: A, cost: 1, next_obs: S, next_act: A, done: 1 };
      return Object.fromEntries(BATCH_KEYS.map((k) => [k, g.input(`${prefix}${k}`, [B, dims[k]])])) as TdBatch;
    };
    const tasks = Array.from({ length: K }, (_, k) => ({ inner: batchInput(`t${k}_inner_`), outer: batchInput(`t${k}_outer_`) }));
    const { outer, inner } = metaObjective(g, { params: ps, theta, innerLrs, target, normalizer: n, sizes, gammaRisk: opts.gammaRisk, tasks });
    const loss = outer;
    g.output('loss', loss);
    g.output('inner_loss', inner);
    const all = g.gradients(loss, [...theta, ...ell]);
    adam(g, ps, all.slice(0, ps.length), { lr: opts.outerLr, clipNorm: opts.clipNorm, name: 'meta_adam' });
    adam(g, lrParams, all.slice(ps.length), { lr: opts.innerLrLr, name: 'inner_lr_adam' });
    polyak(g, target, criticParams, opts.tau);
    const metaStep = await TrainingProgram.compile(g, { threads: opts.threads ?? 2, rng: rng.fork() });
    return new MetaLearner(opts, base, lrParams, ps.map((p) => p.name), metaStep);
  }

  /** One meta-iteration on `tasks` (exactly metaBatch of them), then one recovery step on the first task's outer states. */
  async step(tasks: readonly TaskBatches[]): Promise<MetaStepResult> {
    if (tasks.length !== this.opts.metaBatch) throw new Error(`meta step takes ${this.opts.metaBatch} tasks, got ${tasks.length}`);
    tasks.forEach((t, k) => {
      for (const key of BATCH_KEYS) {
        this.feed[`t${k}_inner_${key}`] = t.inner[key];
        this.feed[`t${k}_outer_${key}`] = t.outer[key];
      }
    });
    const r = await this.metaStep.step(this.feed);
    this.result.outerLoss = r.loss ?? Number.NaN;
    this.result.innerLoss = r.inner_loss ?? Number.NaN;
    this.result.recoveryLoss = await this.base.updateRecovery(tasks[0]!.outer.obs);
    this.iterations++;
    return this.result;
  }

  /** The learned inner learning rate softplus(ℓ) of each critic tensor, by parameter name. */
  innerLearningRates(): Record<string, number> {
    const out: Record<string, number> = {};
    this.lrParams.forEach((p, i) => {
      const l = p.value[0]!;
      out[this.criticNames[i]!] = Number(Math.log1p(Math.exp(l)).toPrecision(4));
    });
    return out;
  }

  /** Q_risk of the meta critic (before any adaptation) on many rows. */
  scoreCritic(obs: Float32Array, act: Float32Array): Promise<Float32Array> {
    return this.base.scoreCritic(obs, act);
  }

  exportOnnx(): { critic: Uint8Array; recovery: Uint8Array } {
    return this.base.exportOnnx();
  }

  /** An ordinary model directory (critic.onnx, recovery.onnx, model.json) with the meta critic. */
  writeModelDir(dir: string, card: Parameters<SafetyLearner['writeModelDir']>[1]): Promise<ModelCardInput> {
    return this.base.writeModelDir(dir, card);
  }

  async release(): Promise<void> {
    await this.metaStep.release();
    await this.base.release();
  }
}

export interface MetaObjectiveParts {
  /** The critic's trainable parameters, in the order of `theta`. */
  readonly params: readonly Param[];
  /** Their tensors in this graph (the meta-parameters θ). */
  readonly theta: readonly Tensor[];
  /** Inner learning rate per tensor (softplus(ℓ)), each broadcastable to its parameter. */
  readonly innerLrs: readonly Tensor[];
  /** The TD target network, read and not differentiated. */
  readonly target: ParamSet;
  readonly normalizer: Normalizer;
  readonly sizes: NetworkSizes;
  readonly gammaRisk: number;
  readonly tasks: readonly { readonly inner: TdBatch; readonly outer: TdBatch }[];
}

/**
 * The MAML objective (thesis eq. 5.1): for each task, θ′ = θ − softplus(ℓ)·∇θ L_inner(θ), kept
 * in the graph so that the gradient of the mean L_outer(θ′) flows through the inner step
 * (second order). Returns the mean outer and the mean inner loss.
 */
export function metaObjective(g: GraphBuilder, o: MetaObjectiveParts): { outer: Tensor; inner: Tensor } {
  // TD loss of the twin critic with weights `w` (thesis eq. 3.2): y = c + (1 − done)·γ·max Q_tgt(s′, a′).
  const tdLoss = (w: readonly Tensor[], b: TdBatch): Tensor => {
    const q = twinCriticWith(g, w, o.params, b.obs, b.act, o.normalizer, o.sizes);
    const next = critic(g, o.target, b.next_obs, b.next_act, o.normalizer, o.sizes);
    const y = g.add(b.cost, g.mul(g.sub(1, b.done), g.mul(next.max, o.gammaRisk)));
    return g.add(g.mean(g.square(g.sub(q.q1, y))), g.mean(g.square(g.sub(q.q2, y))));
  };
  let outer: Tensor | undefined;
  let inner: Tensor | undefined;
  for (const t of o.tasks) {
    const lin = tdLoss(o.theta, t.inner);
    const grads = g.gradients(lin, o.theta);
    const adapted = o.theta.map((th, i) => g.sub(th, g.mul(grads[i]!, o.innerLrs[i]!)));
    const lout = tdLoss(adapted, t.outer);
    outer = outer === undefined ? lout : g.add(outer, lout);
    inner = inner === undefined ? lin : g.add(inner, lin);
  }
  if (outer === undefined || inner === undefined) throw new Error('metaObjective needs at least one task');
  const k = 1 / o.tasks.length;
  return { outer: g.mul(outer, k), inner: g.mul(inner, k) };
}

/**
 * The twin critic of networks.ts with its weights given as tensors (θ or an adapted θ′) in the
 * order of `params`: the same layers (`q1/l0/w` …), relu hidden, sigmoid out.
 */
function twinCriticWith(
  g: GraphBuilder,
  w: readonly Tensor[],
  params: readonly Param[],
  obs: Tensor,
  act: Tensor,
  n: Normalizer,
  sizes: NetworkSizes,
): { q1: Tensor; q2: Tensor } {
  const byName = new Map(params.map((p, i) => [p.name, w[i]!] as const));
  const weight = (name: string): Tensor => {
    const t = byName.get(name);
    if (t === undefined) throw new Error(`meta critic has no parameter ${name}`);
    return t;
  };
  const x = g.concat([normalizeObs(g, obs, n), normalizeAct(g, act, n)], 1);
  const layers = sizes.hidden.length + 1;
  const head = (name: string): Tensor => {
    let h = x;
    for (let i = 0; i < layers; i++) {
      h = g.gemm(h, weight(`${name}/l${i}/w`), weight(`${name}/l${i}/b`));
      h = i === layers - 1 ? g.sigmoid(h) : g.relu(h);
    }
    return h;
  };
  return { q1: head('q1'), q2: head('q2') };
}
