/**
 * The two networks of Recovery RL (thesis §3.3–3.4; reference notes §2, §3.1), written once and
 * used by the training graphs and the exported inference graphs alike.
 */
import { gaussianHead, twinCritic, type GraphBuilder, type ParamSet, type Tensor } from '../nn/index.js';
import type { Normalizer } from './normalizer.js';

export interface NetworkSizes {
  /** Hidden widths of each critic head and of the recovery trunk (reference: 2×256). */
  readonly hidden: readonly number[];
}

export const defaultSizes: NetworkSizes = { hidden: [256, 256] };

/** (s − mean)/σ of the training data (src/learn/normalizer.ts). */
export function normalizeObs(g: GraphBuilder, obs: Tensor, n: Normalizer): Tensor {
  const d = n.obsMean.length;
  return g.div(g.sub(obs, g.const(n.obsMean, [d])), g.const(n.obsStd, [d]));
}

/** Actions from their bounds to [−1, 1]. */
export function normalizeAct(g: GraphBuilder, act: Tensor, n: Normalizer): Tensor {
  const d = n.actCenter.length;
  return g.div(g.sub(act, g.const(n.actCenter, [d])), g.const(n.actHalfRange, [d]));
}

/** Twin safety critic on normalised (s, a): sigmoid heads Q1, Q2 and Q_risk = max(Q1, Q2). */
export function critic(g: GraphBuilder, p: ParamSet, obs: Tensor, act: Tensor, n: Normalizer, sizes: NetworkSizes = defaultSizes): { q1: Tensor; q2: Tensor; max: Tensor } {
  return twinCritic(g, p, normalizeObs(g, obs, n), normalizeAct(g, act, n), { hidden: sizes.hidden });
}

/**
 * Model-free recovery policy: a Gaussian head whose mean tanh(μ)·scale + bias stays inside the
 * action bounds; a state-independent log σ (reference init log 0.1). With `noise` it also
 * returns a reparameterised sample for the training loss.
 */
export function recoveryPolicy(g: GraphBuilder, p: ParamSet, obs: Tensor, n: Normalizer, noise?: Tensor, sizes: NetworkSizes = defaultSizes): { mean: Tensor; sample?: Tensor } {
  return recoveryHead(g, p, normalizeObs(g, obs, n), n, noise, sizes.hidden);
}

/** The recovery head on ready features (normalised state, or an image latent with it). */
export function recoveryHead(g: GraphBuilder, p: ParamSet, features: Tensor, n: Normalizer, noise: Tensor | undefined, hidden: readonly number[]): { mean: Tensor; sample?: Tensor } {
  const head = gaussianHead(g, p, features, {
    actDim: n.actCenter.length,
    hidden,
    logStd: 'param',
    logStdInit: Math.log(0.1),
    logStdMin: -6,
    logStdMax: 0,
    scale: n.actHalfRange,
    bias: n.actCenter,
    ...(noise === undefined ? {} : { noise }),
  });
  return head.action === undefined ? { mean: head.mean } : { mean: head.mean, sample: head.action };
}
