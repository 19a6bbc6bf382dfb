/**
 * Reverse-mode automatic differentiation on a GraphBuilder. Each op's vector–Jacobian product
 * is written with ordinary builder ops (grad-rules.ts), so the gradient is itself a
 * differentiable graph: applying `gradients` again gives second derivatives, which MESA's
 * MAML needs to differentiate through an inner adaptation step (thesis ch. 5).
 */
import type { GraphBuilder } from './graph.js';
import { Tensor } from './tensor.js';
import { fmt, graphError, isStatic, sizeOf } from './shape.js';
import { gradRules } from './grad-rules.js';

export function gradients(g: GraphBuilder, y: Tensor, xs: readonly Tensor[], dy?: Tensor): Tensor[] {
  const nodes = g.nodes.slice(); // gradient nodes appended below are not walked
  const reach = new Set<number>(xs.map((x) => x.id));
  for (const node of nodes) {
    if (node.output.type !== 'float') continue;
    if (node.inputs.some((t) => t instanceof Tensor && reach.has(t.id))) reach.add(node.output.id);
  }
  const zeros = (x: Tensor): Tensor => {
    if (!isStatic(x.shape)) throw graphError('gradients', `${x.name} has a symbolic shape ${fmt(x.shape)}`, [x.shape]);
    return x.rank === 0 ? g.const(0) : g.expand(g.const(0), x.shape);
  };
  if (!reach.has(y.id)) return xs.map(zeros);

  let seed = dy;
  if (seed === undefined) {
    if (sizeOf(y.shape, 'gradients') !== 1) throw graphError('gradients', `output ${y.name} ${fmt(y.shape)} is not a scalar; pass dy`, [y.shape]);
    seed = y.rank === 0 ? g.const(1) : g.const(1, y.shape as number[]);
  } else if (fmt(seed.shape) !== fmt(y.shape)) {
    throw graphError('gradients', `dy ${fmt(seed.shape)} does not match y ${fmt(y.shape)}`, [seed.shape, y.shape]);
  }

  const grads = new Map<number, Tensor>([[y.id, seed]]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const gy = grads.get(node.output.id);
    if (gy === undefined) continue;
    const needs = node.inputs.map((t) => t instanceof Tensor && t.type === 'float' && reach.has(t.id));
    if (!needs.some(Boolean)) continue;
    const rule = gradRules[node.op];
    if (rule === undefined) throw graphError(node.op, 'has no gradient rule');
    const dxs = rule(g, node, gy, needs);
    node.inputs.forEach((t, k) => {
      const d = dxs[k];
      if (!needs[k] || !(t instanceof Tensor) || d === undefined || d === null) return;
      if (fmt(d.shape) !== fmt(t.shape)) throw graphError(node.op, `gradient ${fmt(d.shape)} does not match input ${fmt(t.shape)}`, [d.shape, t.shape]);
      const have = grads.get(t.id);
      grads.set(t.id, have === undefined ? d : g.add(have, d));
    });
  }
  return xs.map((x) => grads.get(x.id) ?? zeros(x));
}
