/**
 * Optimizers as graph ops: the update is part of the training-step graph, and optimizer state
 * (moments, step counter) is program-owned state that lives in typed arrays between steps.
 */
import type { GraphBuilder } from './graph.js';
import type { Tensor } from './tensor.js';
import { Param, ParamSet } from './params.js';
import { graphError } from './shape.js';

export type Params = ParamSet | readonly Param[];

function listOf(params: Params): readonly Param[] {
  return params instanceof ParamSet ? params.trainable() : params;
}

function checkGrads(op: string, ps: readonly Param[], grads: readonly Tensor[]): void {
  if (ps.length !== grads.length) throw graphError(op, `${grads.length} gradients for ${ps.length} params`);
}

/** √(Σ‖g‖²) over all gradients (a scalar). */
export function globalNorm(g: GraphBuilder, grads: readonly Tensor[]): Tensor {
  let sq: Tensor | undefined;
  for (const d of grads) {
    const s = g.reduceSum(g.square(d));
    sq = sq === undefined ? s : g.add(sq, s);
  }
  return g.sqrt(sq ?? g.const(0));
}

/**
 * Rescales the gradients so that their global norm is at most `maxNorm`
 * (Pascanu et al. 2013); returns the clipped gradients and the norm before clipping.
 */
export function clipByGlobalNorm(g: GraphBuilder, grads: readonly Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  const norm = globalNorm(g, grads);
  const scale = g.min(g.div(maxNorm, g.add(norm, 1e-6)), 1);
  return { grads: grads.map((d) => g.mul(d, scale)), norm };
}

/**
 * All gradients as one 1-D vector, in the order of `flat` inputs built from the same params
 * (Reshape is free in ORT; Concat is one copy).
 */
export function flatten(g: GraphBuilder, xs: readonly Tensor[]): Tensor {
  const parts = xs.map((x) => (x.rank === 1 ? x : g.reshape(x, [-1])));
  return parts.length === 1 ? parts[0]! : g.concat(parts, 0);
}

/**
 * The parameters of an optimizer as one flat input named `name` (their tensors become views
 * of it), and their gradients as one vector in the same order: the update then costs a few
 * large elementwise ops instead of several per parameter tensor.
 */
function flatParamsAndGrads(g: GraphBuilder, name: string, ps: readonly Param[], grads: readonly Tensor[], clipNorm: number | undefined) {
  const theta = g.flat(name, ps);
  const flatGrad = flatten(g, grads);
  if (clipNorm === undefined) return { theta, grad: flatGrad, norm: undefined };
  const clipped = clipByGlobalNorm(g, [flatGrad], clipNorm);
  return { theta, grad: clipped.grads[0]!, norm: clipped.norm };
}

export interface SgdOptions {
  lr: number;
  clipNorm?: number;
  /** Prefix of the optimizer's input names; distinct optimizers in one graph need distinct names. */
  name?: string;
}

/** θ ← θ − lr·∇θ. Returns the gradient norm (before clipping) when clipping is on. */
export function sgd(g: GraphBuilder, params: Params, grads: readonly Tensor[], opts: SgdOptions): { gradNorm: Tensor | undefined } {
  const ps = listOf(params);
  checkGrads('sgd', ps, grads);
  const { theta, grad, norm } = flatParamsAndGrads(g, `${opts.name ?? 'sgd'}.params`, ps, grads, opts.clipNorm);
  g.update(theta, g.sub(theta, g.mul(grad, opts.lr)));
  return { gradNorm: norm };
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  clipNorm?: number;
  /** Prefix of the optimizer's state names; distinct optimizers in one graph need distinct names. */
  name?: string;
}

/**
 * Adam with bias correction (Kingma & Ba 2015, Alg. 1): m ← β₁m + (1−β₁)g,
 * v ← β₂v + (1−β₂)g², θ ← θ − lr·m̂/(√v̂ + ε). The step counter t is graph state, so bias
 * correction needs nothing from the caller.
 *
 * The moments are stored divided by (1−β₁) and (1−β₂) (m̃ = β₁m̃ + g, ṽ = β₂ṽ + g²) and every
 * constant factor is folded into two scalars, so the update is 10 elementwise passes:
 * θ ← θ − a·m̃/(√ṽ + ε/c), c = √((1−β₂)/(1−β₂ᵗ)), a = lr(1−β₁)/((1−β₁ᵗ)·c). Same update, fewer passes.
 * Parameters, gradients and moments are each one flat vector (`<name>.params`, `<name>.m`,
 * `<name>.v`), so those 10 passes run once per step, not once per parameter tensor; the
 * arithmetic of every element is unchanged.
 */
export function adam(g: GraphBuilder, params: Params, grads: readonly Tensor[], opts: AdamOptions): { gradNorm: Tensor | undefined; step: Tensor } {
  const ps = listOf(params);
  checkGrads('adam', ps, grads);
  const b1 = opts.beta1 ?? 0.9;
  const b2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  const name = opts.name ?? 'adam';
  const { theta, grad: d, norm } = flatParamsAndGrads(g, `${name}.params`, ps, grads, opts.clipNorm);
  const t = g.state(`${name}.t`, []);
  const t1 = g.add(t, 1);
  g.update(t, t1);
  const c = g.sqrt(g.div(1 - b2, g.sub(1, g.pow(b2, t1))));
  const a = g.div(g.div(opts.lr * (1 - b1), g.sub(1, g.pow(b1, t1))), c);
  const epsC = g.div(eps, c);
  const m = g.state(`${name}.m`, theta.shape as number[]);
  const v = g.state(`${name}.v`, theta.shape as number[]);
  const m1 = g.add(g.mul(m, b1), d);
  const v1 = g.add(g.mul(v, b2), g.square(d));
  g.update(m, m1);
  g.update(v, v1);
  g.update(theta, g.sub(theta, g.mul(g.div(m1, g.add(g.sqrt(v1), epsC)), a)));
  return { gradNorm: norm, step: t1 };
}

/**
 * Polyak averaging of a target network: θ' ← (1−τ)θ' + τθ, using θ after this graph's own
 * update when the graph updates it (Recovery RL target critic, thesis §3.4). The target is one
 * flat input (`<target prefix>.params`) updated by 3 elementwise ops; when the source is one
 * flat input in the same order (an optimizer's), it is used as is, else it is concatenated.
 */
export function polyak(g: GraphBuilder, target: ParamSet, source: ParamSet, tau: number): void {
  const byName = new Map(source.list().map((p) => [source.relative(p), p] as const));
  const tps = target.list();
  if (tps.length === 0) return;
  const sps = tps.map((tp) => {
    const sp = byName.get(target.relative(tp));
    if (sp === undefined) throw graphError('polyak', `target param ${tp.name} has no source ${source.prefix}/${target.relative(tp)}`);
    return sp;
  });
  const t = g.flat(`${target.prefix === '' ? 'polyak' : target.prefix}.params`, tps);
  const s = sameFlat(g, sps) ?? flatten(g, sps.map((sp) => g.latest(sp)));
  g.update(t, g.add(t, g.mul(g.sub(s, t), tau)));
}

/** The latest value of the flat input that holds exactly `ps`, in order, if there is one. */
function sameFlat(g: GraphBuilder, ps: readonly Param[]): Tensor | undefined {
  const first = g.viewOf(ps[0]!);
  if (first === undefined) return undefined;
  let offset = 0;
  for (const p of ps) {
    const v = g.viewOf(p);
    if (v?.flat !== first.flat || v.offset !== offset) return undefined;
    offset += p.size;
  }
  return offset === first.flat.shape[0] ? g.latest(first.flat) : undefined;
}

export type OptimizerOptions = ({ kind: 'adam' } & AdamOptions) | ({ kind: 'sgd' } & SgdOptions);

/** Gradients of `loss` for every trainable param of `params` and the optimizer update, in one call. */
export function minimize(g: GraphBuilder, loss: Tensor, params: Params, opts: OptimizerOptions): { gradNorm: Tensor | undefined } {
  const ps = listOf(params);
  const grads = g.gradients(loss, ps);
  return opts.kind === 'adam' ? adam(g, ps, grads, opts) : sgd(g, ps, grads, opts);
}
