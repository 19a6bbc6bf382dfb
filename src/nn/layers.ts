/**
 * Layers: functions of (graph, parameter scope, input) that create their parameters on first
 * use. The same call builds the training graph and the exported inference graph.
 */
import type { GraphBuilder } from './graph.js';
import type { Tensor } from './tensor.js';
import type { Init, ParamSet } from './params.js';
import { fmt, graphError } from './shape.js';

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'softplus' | 'none';
export type InitKind = 'xavier' | 'he' | 'truncnormal';

export function activate(g: GraphBuilder, x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'relu':
      return g.relu(x);
    case 'tanh':
      return g.tanh(x);
    case 'sigmoid':
      return g.sigmoid(x);
    case 'softplus':
      return g.softplus(x);
    case 'none':
      return x;
  }
}

export function weightInit(kind: InitKind, fanIn: number, fanOut: number): Init {
  switch (kind) {
    case 'xavier':
      return { kind: 'xavier', fanIn, fanOut };
    case 'he':
      return { kind: 'he', fanIn };
    case 'truncnormal':
      return { kind: 'truncnormal', std: Math.sqrt(1 / fanIn) };
  }
}

export interface LinearOptions {
  init?: InitKind;
  bias?: boolean;
}

/** y = x·W + b with x [N, in], W [in, out] (params `w`, `b`). */
export function linear(g: GraphBuilder, p: ParamSet, x: Tensor, out: number, opts: LinearOptions = {}): Tensor {
  const inDim = x.shape[1];
  if (x.rank !== 2 || typeof inDim !== 'number') throw graphError('linear', `input must be [N, features], got ${fmt(x.shape)}`, [x.shape]);
  const w = g.use(p.get('w', [inDim, out], weightInit(opts.init ?? 'xavier', inDim, out)));
  if (opts.bias === false) return g.gemm(x, w);
  return g.gemm(x, w, g.use(p.get('b', [out], { kind: 'const', value: 0 })));
}

export interface MlpOptions {
  /** Output width of every layer, the last one included. */
  widths: readonly number[];
  /** Hidden activation (default relu). */
  act?: Activation;
  /** Activation of the last layer (default none). */
  out?: Activation;
  init?: InitKind;
}

/** Stack of linear layers `l0`, `l1`, …. */
export function mlp(g: GraphBuilder, p: ParamSet, x: Tensor, opts: MlpOptions): Tensor {
  let h = x;
  opts.widths.forEach((w, i) => {
    h = linear(g, p.scope(`l${i}`), h, w, { init: opts.init ?? 'xavier' });
    h = activate(g, h, i === opts.widths.length - 1 ? (opts.out ?? 'none') : (opts.act ?? 'relu'));
  });
  return h;
}

export interface TwinCriticOptions {
  /** Hidden widths of each head (default [256, 256]). */
  hidden?: readonly number[];
  act?: Activation;
  /** Output activation (default sigmoid: Q_risk is a probability, thesis §3.3). */
  out?: Activation;
  init?: InitKind;
}

/** Two independent heads `q1`, `q2` on concat(obs, act); `max` is the pessimistic estimate max(Q1, Q2). */
export function twinCritic(g: GraphBuilder, p: ParamSet, obs: Tensor, act: Tensor, opts: TwinCriticOptions = {}): { q1: Tensor; q2: Tensor; max: Tensor } {
  const x = g.concat([obs, act], 1);
  const head = { widths: [...(opts.hidden ?? [256, 256]), 1], act: opts.act ?? 'relu', out: opts.out ?? 'sigmoid', init: opts.init ?? 'xavier' } as const;
  const q1 = mlp(g, p.scope('q1'), x, head);
  const q2 = mlp(g, p.scope('q2'), x, head);
  return { q1, q2, max: g.max(q1, q2) };
}
