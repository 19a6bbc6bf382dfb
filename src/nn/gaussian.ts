/**
 * Gaussian policy heads for reparameterised sampling (SAC, the model-free recovery policy):
 * u = μ + σ·ε with ε ~ N(0, I) from a seeded noise input, a = tanh(u)·scale + bias, and the
 * log-probability corrected for the squashing (Haarnoja et al. 2018, appendix C):
 * log π(a|s) = Σ log N(u; μ, σ) − Σ log(scale·(1 − tanh²u)).
 */
import type { GraphBuilder } from './graph.js';
import type { Tensor } from './tensor.js';
import type { ParamSet } from './params.js';
import { linear, mlp, type Activation, type InitKind } from './layers.js';
import { fmt, graphError } from './shape.js';

export interface GaussianHeadOptions {
  actDim: number;
  /** Hidden widths of the trunk (default [256, 256]). */
  hidden?: readonly number[];
  act?: Activation;
  init?: InitKind;
  /** 'state': log σ is an output of the network; 'param': one learned log σ per action dimension. */
  logStd?: 'state' | 'param';
  logStdMin?: number;
  logStdMax?: number;
  /**
   * How a state-dependent log σ is kept in [logStdMin, logStdMax]: 'smooth' (default) maps
   * tanh onto the range; 'clip' clamps as SAC's reference does (log σ starts near 0 whatever
   * the range, where 'smooth' would start it at the midpoint).
   */
  logStdBound?: 'smooth' | 'clip';
  /** Initial log σ of the 'param' variant (default 0). */
  logStdInit?: number;
  /** Per-dimension action scale and offset: a = tanh(u)·scale + bias (defaults 1 and 0). */
  scale?: readonly number[];
  bias?: readonly number[];
  /** ε ~ N(0, I) [N, actDim] (`g.noise`); without it only the deterministic `mean` is built. */
  noise?: Tensor;
}

export interface GaussianHead {
  /** tanh(μ)·scale + bias: the deterministic action (what an exported recovery policy outputs). */
  mean: Tensor;
  /** Pre-squash mean and log-std. */
  mu: Tensor;
  logStd: Tensor;
  /** Sampled action and its log-probability [N, 1], when `noise` was given. */
  action?: Tensor;
  logProb?: Tensor;
}

const LOG_2PI = Math.log(2 * Math.PI);

export function gaussianHead(g: GraphBuilder, p: ParamSet, obs: Tensor, opts: GaussianHeadOptions): GaussianHead {
  const A = opts.actDim;
  const hidden = opts.hidden ?? [256, 256];
  const init = opts.init ?? 'xavier';
  const h = hidden.length > 0 ? mlp(g, p.scope('trunk'), obs, { widths: hidden, act: opts.act ?? 'relu', out: opts.act ?? 'relu', init }) : obs;
  const mu = linear(g, p.scope('mu'), h, A, { init });
  const lo = opts.logStdMin ?? -5;
  const hi = opts.logStdMax ?? 2;
  let logStd: Tensor;
  if ((opts.logStd ?? 'state') === 'state') {
    // Smooth bound: lo + (hi − lo)·(tanh(l) + 1)/2 keeps gradients alive at the limits.
    const l = linear(g, p.scope('log_std'), h, A, { init });
    logStd = opts.logStdBound === 'clip' ? g.clip(l, lo, hi) : g.add(g.mul(g.add(g.tanh(l), 1), 0.5 * (hi - lo)), lo);
  } else {
    logStd = g.clip(g.use(p.get('log_std', [A], { kind: 'const', value: opts.logStdInit ?? 0 })), lo, hi);
  }
  const scaleArr = opts.scale ?? new Array<number>(A).fill(1);
  const biasArr = opts.bias ?? new Array<number>(A).fill(0);
  if (scaleArr.length !== A || biasArr.length !== A) throw graphError('gaussianHead', `scale/bias have ${scaleArr.length}/${biasArr.length} values for ${A} actions`);
  const scale = g.const(scaleArr, [A]);
  const bias = g.const(biasArr, [A]);
  const squash = (u: Tensor): Tensor => g.add(g.mul(g.tanh(u), scale), bias);
  const head: GaussianHead = { mean: squash(mu), mu, logStd };
  const eps = opts.noise;
  if (eps === undefined) return head;
  if (eps.rank !== 2 || eps.shape[1] !== A || eps.shape[0] !== obs.shape[0]) {
    throw graphError('gaussianHead', `noise ${fmt(eps.shape)} must be [${obs.shape[0]},${A}]`, [eps.shape]);
  }
  const u = g.add(mu, g.mul(g.exp(logStd), eps));
  // log N(u; μ, σ) = −ε²/2 − log σ − log(2π)/2, since (u − μ)/σ = ε exactly.
  const gauss = g.sub(g.sub(g.mul(g.square(eps), -0.5), logStd), 0.5 * LOG_2PI);
  // log(1 − tanh²u) = 2(log 2 − u − softplus(−2u)), stable for large |u|.
  const logDet = g.add(g.mul(g.sub(g.sub(Math.LN2, u), g.softplus(g.mul(u, -2))), 2), g.log(g.abs(scale)));
  head.action = squash(u);
  head.logProb = g.reduceSum(g.sub(gauss, logDet), [1], true);
  return head;
}
