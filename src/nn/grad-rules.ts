/**
 * Vector–Jacobian products of every differentiable op, written with builder ops only (so they
 * differentiate again). Broadcasting is undone by summing the gradient back to the input's
 * shape (`sumTo`).
 */
import type { GraphBuilder } from './graph.js';
import { Int64s, Tensor, type Node } from './tensor.js';
import { fmt, graphError, isStatic, sameShape, type Shape } from './shape.js';
import { convGrad, convTransposeGrad } from './conv-grad.js';

export type GradRule = (g: GraphBuilder, node: Node, dy: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

function inp(node: Node, k: number): Tensor {
  const t = node.inputs[k];
  if (!(t instanceof Tensor)) throw graphError(node.op, `input ${k} is not a tensor`);
  return t;
}

function ints(node: Node, k: number): readonly number[] {
  const t = node.inputs[k];
  if (!(t instanceof Int64s)) throw graphError(node.op, `input ${k} is not an int64 constant`);
  return t.values;
}

function staticShape(op: string, s: Shape): number[] {
  if (!isStatic(s)) throw graphError(op, `gradient needs a static shape, got ${fmt(s)}`, [s]);
  return [...s];
}

/** Sums a broadcast gradient back to `shape`. */
export function sumTo(g: GraphBuilder, t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.rank; i++) if (i < lead || (shape[i - lead] === 1 && t.shape[i] !== 1)) axes.push(i);
  const r = axes.length > 0 ? g.reduceSum(t, axes, true) : t;
  return sameShape(r.shape, shape) ? r : g.reshape(r, staticShape('sumTo', shape));
}

/**
 * Gradient of a Gemm bias: dy [m, n] summed to the bias shape. A row bias ([n] or [1, n]) sums
 * over the batch as 1ᵀ·dy, a Gemm: ORT's ReduceSum over axis 0 of a 256×256 gradient is a
 * strided walk that took ~40 µs, ten times the Gemm (bench/trainer). Other shapes use sumTo.
 */
function biasGrad(g: GraphBuilder, dy: Tensor, shape: Shape): Tensor {
  const [m, n] = dy.shape;
  const row = (shape.length === 1 && shape[0] === n) || (shape.length === 2 && shape[0] === 1 && shape[1] === n);
  if (typeof m !== 'number' || m === 1 || !row) return sumTo(g, dy, shape);
  const s = g.gemm(g.const(1, [1, m]), dy);
  return shape.length === 2 ? s : g.reshape(s, staticShape('Gemm', shape));
}

/** Swaps the last two axes. */
function mT(g: GraphBuilder, t: Tensor): Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 1] = t.rank - 2;
  perm[t.rank - 2] = t.rank - 1;
  return g.transpose(t, perm);
}

/** Expands a reduced gradient back over the reduced axes. */
function unreduce(g: GraphBuilder, node: Node, dy: Tensor, axes: readonly number[]): Tensor {
  const x = inp(node, 0);
  const xs = staticShape(node.op, x.shape);
  const keep = xs.map((d, i) => (axes.includes(i) ? 1 : d));
  const dk = dy.rank === keep.length ? dy : g.reshape(dy, keep);
  return g.expand(dk, xs);
}

function reduceAxes(node: Node): number[] {
  const x = inp(node, 0);
  const a = node.attrs.axes;
  if (node.op === 'ReduceSum') return [...ints(node, 1)];
  return a !== undefined && 'ints' in a ? [...a.ints] : x.shape.map((_, i) => i);
}

export const gradRules: Record<string, GradRule> = {
  Identity: (_g, _n, dy) => [dy],
  Add: (g, n, dy) => [sumTo(g, dy, inp(n, 0).shape), sumTo(g, dy, inp(n, 1).shape)],
  Sub: (g, n, dy, needs) => [sumTo(g, dy, inp(n, 0).shape), needs[1] ? sumTo(g, g.neg(dy), inp(n, 1).shape) : null],
  Mul: (g, n, dy, needs) => [
    needs[0] ? sumTo(g, g.mul(dy, inp(n, 1)), inp(n, 0).shape) : null,
    needs[1] ? sumTo(g, g.mul(dy, inp(n, 0)), inp(n, 1).shape) : null,
  ],
  Div: (g, n, dy, needs) => [
    needs[0] ? sumTo(g, g.div(dy, inp(n, 1)), inp(n, 0).shape) : null,
    needs[1] ? sumTo(g, g.neg(g.div(g.mul(dy, n.output), inp(n, 1))), inp(n, 1).shape) : null,
  ],
  Pow: (g, n, dy, needs) => {
    const [a, b] = [inp(n, 0), inp(n, 1)];
    return [
      needs[0] ? sumTo(g, g.mul(dy, g.mul(b, g.pow(a, g.sub(b, 1)))), a.shape) : null,
      needs[1] ? sumTo(g, g.mul(dy, g.mul(n.output, g.log(a))), b.shape) : null,
    ];
  },
  // Ties send the whole gradient to the first operand.
  Max: (g, n, dy) => {
    const lt = g.less(inp(n, 0), inp(n, 1));
    return [sumTo(g, g.where(lt, 0, dy), inp(n, 0).shape), sumTo(g, g.where(lt, dy, 0), inp(n, 1).shape)];
  },
  Min: (g, n, dy) => {
    const gt = g.greater(inp(n, 0), inp(n, 1));
    return [sumTo(g, g.where(gt, 0, dy), inp(n, 0).shape), sumTo(g, g.where(gt, dy, 0), inp(n, 1).shape)];
  },
  Neg: (g, _n, dy) => [g.neg(dy)],
  Abs: (g, n, dy) => [g.where(g.less(inp(n, 0), 0), g.neg(dy), dy)],
  // The mask reads the output (y > 0 exactly where x > 0, NaN included): the pre-activation then
  // feeds only the Relu, so ONNX Runtime fuses a Gemm before it into one FusedGemm.
  Relu: (g, n, dy) => [g.where(g.greater(n.output, 0), dy, 0)],
  Tanh: (g, n, dy) => [g.mul(dy, g.sub(1, g.square(n.output)))],
  Sigmoid: (g, n, dy) => [g.mul(dy, g.mul(n.output, g.sub(1, n.output)))],
  Exp: (g, n, dy) => [g.mul(dy, n.output)],
  Log: (g, n, dy) => [g.div(dy, inp(n, 0))],
  Sqrt: (g, n, dy) => [g.div(g.mul(dy, 0.5), n.output)],
  // Clip passes the gradient where it did not clip.
  Clip: (g, n, dy) => [g.where(g.equal(inp(n, 0), n.output), dy, 0), null, null],
  Where: (g, n, dy, needs) => [
    null,
    needs[1] ? sumTo(g, g.where(inp(n, 0), dy, 0), inp(n, 1).shape) : null,
    needs[2] ? sumTo(g, g.where(inp(n, 0), 0, dy), inp(n, 2).shape) : null,
  ],
  MatMul: (g, n, dy, needs) => [
    needs[0] ? sumTo(g, g.matmul(dy, mT(g, inp(n, 1))), inp(n, 0).shape) : null,
    needs[1] ? sumTo(g, g.matmul(mT(g, inp(n, 0)), dy), inp(n, 1).shape) : null,
  ],
  // Y = op(A)·op(B) + C; each case keeps the transposes inside Gemm (no Transpose nodes).
  Gemm: (g, n, dy, needs) => {
    const ta = n.attrs.transA !== undefined;
    const tb = n.attrs.transB !== undefined;
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const da = !needs[0] ? null : ta ? g.gemm(b, dy, undefined, { transA: tb, transB: true }) : g.gemm(dy, b, undefined, { transB: !tb });
    const db = !needs[1] ? null : tb ? g.gemm(dy, a, undefined, { transA: true, transB: ta }) : g.gemm(a, dy, undefined, { transA: !ta });
    const c = n.inputs[2];
    return [da, db, needs[2] === true && c instanceof Tensor ? biasGrad(g, dy, c.shape) : null];
  },
  Concat: (g, n, dy) => {
    const a = n.attrs.axis;
    const axis = a !== undefined && 'i' in a ? a.i : 0;
    let at = 0;
    return n.inputs.map((t) => {
      const d = (t as Tensor).shape[axis] as number;
      const s = g.slice(dy, [at], [at + d], [axis]);
      at += d;
      return s;
    });
  },
  Slice: (g, n, dy) => {
    const x = inp(n, 0);
    const xs = staticShape('Slice', x.shape);
    const [starts, ends, axes] = [ints(n, 1), ints(n, 2), ints(n, 3)];
    const pads = new Array<number>(2 * x.rank).fill(0);
    axes.forEach((ax, i) => {
      const d = xs[ax]!;
      const clamp = (v: number): number => Math.min(d, Math.max(0, v < 0 ? v + d : v));
      pads[ax] = clamp(starts[i]!);
      pads[ax + x.rank] = d - clamp(ends[i]!);
    });
    return [g.pad(dy, pads), null, null, null];
  },
  Pad: (g, n, dy) => {
    const x = inp(n, 0);
    const xs = staticShape('Pad', x.shape);
    const pads = ints(n, 1);
    const axes = xs.map((_, i) => i);
    return [g.slice(dy, axes.map((i) => pads[i]!), axes.map((i) => pads[i]! + xs[i]!), axes), null];
  },
  Reshape: (g, n, dy) => [g.reshape(dy, staticShape('Reshape', inp(n, 0).shape)), null],
  Transpose: (g, n, dy) => {
    const p = n.attrs.perm;
    const perm = p !== undefined && 'ints' in p ? p.ints : [];
    const inv = new Array<number>(perm.length);
    perm.forEach((v, i) => (inv[v] = i));
    return [g.transpose(dy, inv)];
  },
  Expand: (g, n, dy) => [sumTo(g, dy, inp(n, 0).shape), null],
  ReduceSum: (g, n, dy) => [unreduce(g, n, dy, reduceAxes(n)), null],
  ReduceMean: (g, n, dy) => {
    const axes = reduceAxes(n);
    const xs = staticShape('ReduceMean', inp(n, 0).shape);
    const count = axes.reduce((c, a) => c * xs[a]!, 1);
    return [g.div(unreduce(g, n, dy, axes), count)];
  },
  // Every element equal to the maximum receives the gradient.
  ReduceMax: (g, n, dy) => {
    const axes = reduceAxes(n);
    const x = inp(n, 0);
    const ymax = unreduce(g, n, n.output, axes);
    return [g.where(g.equal(x, ymax), unreduce(g, n, dy, axes), 0)];
  },
  Conv: convGrad,
  ConvTranspose: convTransposeGrad,
};
