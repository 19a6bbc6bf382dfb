/**
 * The nearest-safe search as one in-memory ONNX graph, built at load from the critic: the
 * critic runs ONCE at batch K on a fixed candidate set around the proposal
 * (src/core/nearest-safe-candidates.ts), and the graph returns the candidate closest to the
 * proposal (L2 in action space normalised by the bounds) among those with Q_risk ≤ threshold,
 * or the recovery policy's action when none is. The reference's Q-sampling recovery does the
 * same batch-critic-then-argmin with 1000 uniform actions and picks the lowest Q (reference
 * §3.1); here the criterion is distance to the proposal, under a risk constraint.
 *
 * Inputs:  obs [1, S], proposed [1, A] (clamped), fallback [1, A] (π_rec(s), clamped),
 *          threshold [1] (ε_risk − h).
 * Outputs: action [1, A], q [1] (Q_risk of the returned action), index [1] (the
 *          candidate row as float32, −1 when the fallback was returned).
 *
 * Only ops whose semantics are stable from opset 9 on are used (Min/Max instead of Clip,
 * MatMul instead of ReduceSum, Not(Greater) instead of LessOrEqual), because the graph takes
 * the critic's opset: the critic's own ops must keep their meaning.
 */
import { RShieldError } from '../core/errors.js';
import type { CandidateSet } from '../core/nearest-safe-candidates.js';
import type { ModelCard } from '../config/model-card.js';
import { renameGraph, renamer } from './merge.js';
import { graphIO } from './model-io.js';
import { floatTensor, floatValueInfo, int64Tensor, node, onnx, type IModelProto, type INodeProto, type ModelProto } from '../nn/onnx-proto.js';

export const NS_OBS = 'obs';
export const NS_PROPOSED = 'proposed';
export const NS_FALLBACK = 'fallback';
export const NS_THRESHOLD = 'threshold';
export const NS_ACTION = 'action';
export const NS_Q = 'q';
export const NS_INDEX = 'index';

/** Oldest default-domain opset the graph's own ops are written for (Where). */
export const NS_MIN_OPSET = 9;

/** A masked-out distance: larger than any distance inside the box (at most 4·A). */
const FAR = 1e30;

/** Builds the search graph; throws E_MODEL when the critic cannot run at batch K. */
export function nearestSafeGraph(card: ModelCard, critic: ModelProto, cands: CandidateSet): IModelProto {
  const S = card.obsDim;
  const A = card.actDim;
  const K = cands.count + 1;
  const ctx = { robot: card.robot, version: card.version };
  const cg = critic.graph;
  if (cg == null) throw new RShieldError('E_MODEL', 'critic has no graph', ctx);
  const opset = (critic.opsetImport ?? []).find((o) => (o.domain ?? '') === '');
  const version = Number(opset?.version ?? 0);
  if (version < NS_MIN_OPSET) {
    throw new RShieldError('E_MODEL', `nearest-safe recovery needs a critic of opset ≥ ${NS_MIN_OPSET}, the critic uses ${version}`, { ...ctx, opset: version });
  }
  for (const name of [card.critic.inputs.obs, card.critic.inputs.act]) {
    const batch = graphIO(cg).inputs.get(name)?.dims?.[0];
    if (typeof batch === 'number') {
      throw new RShieldError('E_MODEL', `critic input '${name}' has a fixed batch of ${batch}; nearest-safe recovery runs the critic at batch ${K}`, { ...ctx, name });
    }
  }
  if (A !== cands.actDim) throw new RangeError(`candidate set is for actDim ${cands.actDim}, card says ${A}`);

  const low = Float32Array.from(card.actLow);
  const high = Float32Array.from(card.actHigh);
  const mid = low.map((l, i) => (l + (high[i] as number)) / 2);
  const half = low.map((l, i) => ((high[i] as number) - l) / 2);
  // A zero-width bound (low = high) has no direction to move in: u = 0 there.
  const invHalf = half.map((h) => (h > 0 ? 1 / h : 0));

  const ren = renamer('critic/', new Map([
    [card.critic.inputs.obs, 'ns/obs_k'],
    [card.critic.inputs.act, 'ns/cand_a'],
    [card.critic.output, 'ns/q_raw'],
  ]));
  const g = renameGraph(cg, ren, 'critic/');
  const wired = new Set(['ns/obs_k', 'ns/cand_a', 'ns/q_raw']);
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));

  const ns: INodeProto[] = [
    // u = (a − mid) / half: the box becomes [−1, 1]^A, distances weigh every axis alike.
    node('Sub', [NS_PROPOSED, 'ns/mid'], ['ns/p_c']),
    node('Mul', ['ns/p_c', 'ns/inv_half'], ['ns/u']),
    node('Mul', ['ns/u', 'ns/u'], ['ns/u2']),
    node('MatMul', ['ns/u2', 'ns/ones_a'], ['ns/r2']),
    node('Sqrt', ['ns/r2'], ['ns/r']),
    // u_k = S_k ⊙ u + R_k·|u| + C_k
    node('Mul', ['ns/u', 'ns/S'], ['ns/su']),
    node('Mul', ['ns/r', 'ns/R'], ['ns/rr']),
    node('Add', ['ns/su', 'ns/rr'], ['ns/sr']),
    node('Add', ['ns/sr', 'ns/C'], ['ns/base']),
    node('Sub', [NS_FALLBACK, 'ns/mid'], ['ns/f_c']),
    node('Mul', ['ns/f_c', 'ns/inv_half'], ['ns/u_fb']),
    node('Concat', ['ns/base', 'ns/u_fb'], ['ns/cand_raw'], { ints: { axis: 0 } }),
    node('Min', ['ns/cand_raw', 'ns/one'], ['ns/cand_hi']),
    node('Max', ['ns/cand_hi', 'ns/neg_one'], ['ns/cand_u']),
    node('Mul', ['ns/cand_u', 'ns/half'], ['ns/cand_h']),
    node('Add', ['ns/cand_h', 'ns/mid'], ['ns/cand_a']),
    node('Expand', [NS_OBS, 'ns/obs_shape'], ['ns/obs_k']),
    ...(g.node ?? []),
    node('Reshape', ['ns/q_raw', 'ns/flat'], ['ns/q_k']),
    node('Sub', ['ns/cand_u', 'ns/u'], ['ns/diff']),
    node('Mul', ['ns/diff', 'ns/diff'], ['ns/diff2']),
    node('MatMul', ['ns/diff2', 'ns/ones_a'], ['ns/dist_col']),
    node('Reshape', ['ns/dist_col', 'ns/flat'], ['ns/dist']),
    node('Greater', ['ns/q_k', NS_THRESHOLD], ['ns/unsafe']),
    node('Where', ['ns/unsafe', 'ns/far', 'ns/dist'], ['ns/masked']),
    // ArgMin takes the first of equal values: the proposal (row 0) wins ties.
    node('ArgMin', ['ns/masked'], ['ns/best'], { ints: { axis: 0, keepdims: 1 } }),
    node('Gather', ['ns/cand_a', 'ns/best'], ['ns/best_a'], { ints: { axis: 0 } }),
    node('Gather', ['ns/q_k', 'ns/best'], ['ns/best_q'], { ints: { axis: 0 } }),
    node('Gather', ['ns/q_k', 'ns/last'], ['ns/fb_q'], { ints: { axis: 0 } }),
    node('Greater', ['ns/best_q', NS_THRESHOLD], ['ns/none_safe']),
    node('Where', ['ns/none_safe', NS_FALLBACK, 'ns/best_a'], [NS_ACTION]),
    node('Where', ['ns/none_safe', 'ns/fb_q', 'ns/best_q'], [NS_Q]),
    node('Where', ['ns/none_safe', 'ns/minus_one', 'ns/best'], ['ns/index_i64']),
    // As float: reading an int64 output in JS makes a BigInt, an allocation per tick.
    node('Cast', ['ns/index_i64'], [NS_INDEX], { ints: { to: onnx.TensorProto.DataType.FLOAT } }),
  ];
  return {
    irVersion: Math.max(Number(critic.irVersion ?? 0), 4),
    producerName: 'rshield-nearest-safe',
    opsetImport: critic.opsetImport ?? [],
    functions: critic.functions ?? [],
    graph: {
      name: 'rshield_nearest_safe',
      node: ns,
      initializer: [
        ...(g.initializer ?? []),
        floatTensor('ns/mid', [1, A], mid),
        floatTensor('ns/half', [1, A], half),
        floatTensor('ns/inv_half', [1, A], invHalf),
        floatTensor('ns/ones_a', [A, 1], new Float32Array(A).fill(1)),
        floatTensor('ns/S', [cands.count, A], cands.scale),
        floatTensor('ns/R', [cands.count, A], cands.radial),
        floatTensor('ns/C', [cands.count, A], cands.offset),
        floatTensor('ns/one', [], [1]),
        floatTensor('ns/neg_one', [], [-1]),
        floatTensor('ns/far', [], [FAR]),
        int64Tensor('ns/obs_shape', [2], [K, S]),
        int64Tensor('ns/flat', [1], [-1]),
        int64Tensor('ns/last', [1], [K - 1]),
        int64Tensor('ns/minus_one', [1], [-1]),
      ],
      sparseInitializer: g.sparseInitializer ?? [],
      input: [floatValueInfo(NS_OBS, [1, S]), floatValueInfo(NS_PROPOSED, [1, A]), floatValueInfo(NS_FALLBACK, [1, A]), floatValueInfo(NS_THRESHOLD, [1])],
      output: [
        floatValueInfo(NS_ACTION, [1, A]),
        floatValueInfo(NS_Q, [1]),
        floatValueInfo(NS_INDEX, [1]),
      ],
      // The critic's shape hints, minus those of its (now internal, batch K) inputs and output.
      valueInfo: (g.valueInfo ?? []).filter((v) => !wired.has(v.name ?? '') && !inits.has(v.name ?? '')),
    },
  };
}
