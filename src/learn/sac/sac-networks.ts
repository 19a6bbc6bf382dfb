/**
 * The two networks of the SAC task policy (reference notes §4, pranz24's SAC): a tanh-squashed
 * Gaussian policy and a twin Q critic, each 2×256 ReLU, on the same input scaling as the
 * safety critic (src/learn/normalizer.ts). Written once for the training graphs and the
 * exported policy alike.
 */
import { gaussianHead, twinCritic, type GaussianHead, type GraphBuilder, type ParamSet, type Tensor } from '../../nn/index.js';
import { normalizeAct, normalizeObs } from '../networks.js';
import type { Normalizer } from '../normalizer.js';

export interface SacSizes {
  /** Hidden widths of the policy trunk and of each Q head (reference 2×256). */
  readonly hidden: readonly number[];
}

export const sacDefaultSizes: SacSizes = { hidden: [256, 256] };

/**
 * π(a|s): a = tanh(μ + σ·ε)·scale + bias inside the action bounds, log σ state-dependent and
 * clamped to [−20, 2] (reference), log π corrected for the squashing. Without `noise` only the
 * deterministic action tanh(μ)·scale + bias (what deployment runs) is built.
 */
export function sacPolicy(g: GraphBuilder, p: ParamSet, obs: Tensor, n: Normalizer, sizes: SacSizes, noise?: Tensor): GaussianHead {
  return gaussianHead(g, p, normalizeObs(g, obs, n), {
    actDim: n.actCenter.length,
    hidden: sizes.hidden,
    logStd: 'state',
    logStdMin: -20,
    logStdMax: 2,
    logStdBound: 'clip',
    scale: n.actHalfRange,
    bias: n.actCenter,
    ...(noise === undefined ? {} : { noise }),
  });
}

/** Twin soft Q heads on normalised (s, a), linear outputs; `min` is the value SAC uses. */
export function sacCritic(g: GraphBuilder, p: ParamSet, obs: Tensor, act: Tensor, n: Normalizer, sizes: SacSizes): { q1: Tensor; q2: Tensor; min: Tensor } {
  const q = twinCritic(g, p, normalizeObs(g, obs, n), normalizeAct(g, act, n), { hidden: sizes.hidden, out: 'none' });
  return { q1: q.q1, q2: q.q2, min: g.min(q.q1, q.q2) };
}
