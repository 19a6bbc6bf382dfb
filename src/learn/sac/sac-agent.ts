/**
 * Soft actor-critic, the task policy of Recovery RL's experiments (thesis §4.3; reference notes
 * §4, pranz24's SAC): α fixed, twin Q with a Polyak target, target
 * y = r + mask·γ·(min Q′(s′, a′) − α log π(a′|s′)), a′ ~ π(s′); policy loss
 * mean(α log π(ã|s) − min Q(s, ã)). One update — both losses, both Adam steps and the target
 * update — is one ONNX graph (DESIGN.md decision 1); the policy loss reads the Q weights from
 * before this step's Q update (the reference applies them in turn; the difference is one step).
 *
 * Optional safety terms for the constrained baselines (reference §4), weighted by a scalar fed
 * each update so a learned multiplier or a schedule costs no recompile:
 * - 'penalty' (LR, SQRL, RSPO): policy loss + ν·(mean max Q_risk(s, ã) − ε);
 * - 'shaping' (RCPO): y −= λ·max Q_risk(s, a).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Rng } from '../../core/rng.js';
import { adam, exportInference, GraphBuilder, inferenceGraph, ParamSet, polyak, TrainingProgram, type Tensor } from '../../nn/index.js';
import { critic, type NetworkSizes } from '../networks.js';
import type { Normalizer } from '../normalizer.js';
import type { SacBatch } from './sac-replay.js';
import { SacUpdateWorker } from './sac-update-worker.js';
import { sacCritic, sacDefaultSizes, sacPolicy, type SacSizes } from './sac-networks.js';

export interface SacRiskTerm {
  readonly use: 'penalty' | 'shaping';
  /** The safety critic's parameters (read, never trained, here) and its widths. */
  readonly critic: ParamSet;
  readonly sizes: NetworkSizes;
  /** ε_risk of the penalty ν·(Q_risk − ε). */
  readonly epsRisk: number;
}

export interface SacOptions {
  readonly obsDim: number;
  readonly actDim: number;
  /** Input scaling and action bounds (the policy's output range is the bounds). */
  readonly normalizer: Normalizer;
  readonly seed: number;
  /** Reference defaults: γ 0.99, τ 0.005, lr 3e-4, α 0.2, batch 256, 2×256. */
  readonly gamma?: number;
  readonly tau?: number;
  readonly lr?: number;
  readonly alpha?: number;
  readonly batch?: number;
  readonly sizes?: SacSizes;
  readonly threads?: number;
  readonly risk?: SacRiskTerm;
  /**
   * Where updates run: on the calling thread (default), or on a worker thread of their own
   * (sac-update-worker.ts, `threads` intra-op threads there) so the caller can run other work
   * meanwhile. The same options and seed give the same weights either way.
   */
  readonly updateThread?: 'caller' | 'worker';
}

export interface SacUpdateResult {
  qLoss: number;
  policyLoss: number;
  /** Mean max Q_risk over the batch (at (s, ã) for 'penalty', (s, a) for 'shaping'); NaN without a risk term. */
  risk: number;
}

export const SAC_POLICY_INPUT = 'obs';
export const SAC_POLICY_OUTPUT = 'action';

export class SacAgent {
  readonly batch: number;
  readonly sizes: SacSizes;
  updates = 0;
  readonly #result: SacUpdateResult = { qLoss: 0, policyLoss: 0, risk: Number.NaN };
  readonly #actFeed: { obs: Float32Array };
  readonly #weightFeed: Float32Array = new Float32Array(1);
  readonly #feeds: Record<string, Float32Array> = {};

  private constructor(
    readonly opts: SacOptions,
    /** The policy's parameters (read by action filters such as SQRL's). */
    readonly policyParams: ParamSet,
    /** The update on this thread, or the worker that runs it. */
    private readonly updater: TrainingProgram | SacUpdateWorker,
    private readonly actStep: TrainingProgram,
  ) {
    this.batch = opts.batch ?? 256;
    this.sizes = opts.sizes ?? sacDefaultSizes;
    this.#actFeed = { obs: new Float32Array(opts.obsDim) };
  }

  static async create(opts: SacOptions): Promise<SacAgent> {
    const { obsDim: S, actDim: A, normalizer: n } = opts;
    const B = opts.batch ?? 256;
    const sizes = opts.sizes ?? sacDefaultSizes;
    const gamma = opts.gamma ?? 0.99;
    const alpha = opts.alpha ?? 0.2;
    const lr = opts.lr ?? 3e-4;
    const rng = new Rng(opts.seed);
    // Scoped names: the safety critic (q1/…, trunk/…) can sit in the same graphs.
    const policyParams = ParamSet.create({ rng: rng.fork() }).scope('sac_pi');
    const qParams = ParamSet.create({ rng: rng.fork() }).scope('sac_q');

    const g = new GraphBuilder('sac_step');
    const obs = g.input('obs', [B, S]);
    const act = g.input('act', [B, A]);
    const reward = g.input('reward', [B, 1]);
    const nextObs = g.input('next_obs', [B, S]);
    const mask = g.input('mask', [B, 1]);
    const risk = opts.risk;
    const weight = risk === undefined ? undefined : g.input('risk_weight', [1]);

    // Soft Q target (no gradient reaches the policy or the target: only Q's are asked for).
    const next = sacPolicy(g, policyParams, nextObs, n, sizes, g.noise('eps_next', [B, A]));
    const target = qParams.copy('sac_q_target');
    const qNext = sacCritic(g, target, nextObs, next.action!, n, sizes);
    let r: Tensor = reward;
    let riskMean: Tensor | undefined;
    if (risk?.use === 'shaping') {
      const qr = critic(g, risk.critic, obs, act, n, risk.sizes).max;
      riskMean = g.mean(qr);
      r = g.sub(reward, g.mul(qr, weight!));
    }
    const y = g.add(r, g.mul(mask, g.mul(g.sub(qNext.min, g.mul(next.logProb!, alpha)), gamma)));
    const q = sacCritic(g, qParams, obs, act, n, sizes);
    const qLoss = g.add(g.mean(g.square(g.sub(q.q1, y))), g.mean(g.square(g.sub(q.q2, y))));

    const pi = sacPolicy(g, policyParams, obs, n, sizes, g.noise('eps_pi', [B, A]));
    const qPi = sacCritic(g, qParams, obs, pi.action!, n, sizes);
    let policyLoss = g.mean(g.sub(g.mul(pi.logProb!, alpha), qPi.min));
    if (risk?.use === 'penalty') {
      riskMean = g.mean(critic(g, risk.critic, obs, pi.action!, n, risk.sizes).max);
      policyLoss = g.add(policyLoss, g.mul(g.sub(riskMean, risk.epsRisk), weight!));
    }
    g.output('q_loss', qLoss);
    g.output('policy_loss', policyLoss);
    if (riskMean !== undefined) g.output('risk', riskMean);
    adam(g, qParams, g.gradients(qLoss, qParams.trainable()), { lr, name: 'q_adam' });
    adam(g, policyParams, g.gradients(policyLoss, policyParams.trainable()), { lr, name: 'policy_adam' });
    polyak(g, target, qParams, opts.tau ?? 0.005);

    // Acting: one row, a sample and the deterministic mean from the same pass.
    const a = new GraphBuilder('sac_act');
    const head = sacPolicy(a, policyParams, a.input('obs', [1, S]), n, sizes, a.noise('eps', [1, A]));
    a.output('sample', head.action!);
    a.output('mean', head.mean);

    const threads = opts.threads ?? 2;
    const updateRng = rng.fork();
    const actStep = await TrainingProgram.compile(a, { threads: 1, rng: rng.fork() });
    if (opts.updateThread === 'worker') {
      // The worker builds this same agent (same seed: same weights, same noise) and compiles the update there.
      const { risk: _risk, updateThread: _where, ...rest } = opts;
      try {
        return new SacAgent(opts, policyParams, await SacUpdateWorker.start(rest, policyParams, risk), actStep);
      } catch (err) {
        await actStep.release();
        throw err;
      }
    }
    const updateStep = await TrainingProgram.compile(g, { threads, rng: updateRng });
    return new SacAgent(opts, policyParams, updateStep, actStep);
  }

  /**
   * a ~ π(·|s), or the deterministic tanh(μ)·scale + bias with `deterministic`. The returned
   * array belongs to the agent and is overwritten by the next call.
   */
  async act(obs: ArrayLike<number>, deterministic = false): Promise<Float32Array> {
    this.#actFeed.obs.set(obs);
    await this.actStep.step(this.#actFeed);
    return this.actStep.output(deterministic ? 'mean' : 'sample') as Float32Array;
  }

  /**
   * One SAC update on `batch`; `riskWeight` is ν (penalty) or λ (shaping) when a risk term is
   * on. On a worker, the batch and the risk critic's weights are taken before this returns its
   * promise, and the policy's weights here are the new ones when it resolves.
   */
  async update(batch: SacBatch, riskWeight = 0): Promise<SacUpdateResult> {
    if (this.updater instanceof SacUpdateWorker) {
      const r = await this.updater.update(batch, riskWeight);
      this.updates++;
      return r;
    }
    // The batch's columns are named after the graph's inputs.
    const f = Object.assign(this.#feeds, batch);
    if (this.opts.risk !== undefined) {
      this.#weightFeed[0] = riskWeight;
      f.risk_weight = this.#weightFeed;
    }
    const out = await this.updater.step(f);
    this.#result.qLoss = out.q_loss ?? Number.NaN;
    this.#result.policyLoss = out.policy_loss ?? Number.NaN;
    this.#result.risk = out.risk ?? Number.NaN;
    this.updates++;
    return this.#result;
  }

  /** The deployable policy: obs [N, S] → action [N, A], the deterministic mean inside the bounds. */
  exportOnnx(): Uint8Array {
    const g = inferenceGraph('sac_policy');
    const head = sacPolicy(g, this.policyParams, g.input(SAC_POLICY_INPUT, ['N', this.opts.obsDim]), this.opts.normalizer, this.sizes);
    g.output(SAC_POLICY_OUTPUT, head.mean);
    return exportInference(g, { description: 'rshield SAC task policy: tanh(mean)·scale + bias (deterministic)' }).onnx;
  }

  async writePolicy(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, this.exportOnnx());
  }

  async release(): Promise<void> {
    if (this.updater instanceof SacUpdateWorker) await this.updater.close();
    else await this.updater.release();
    await this.actStep.release();
  }
}
