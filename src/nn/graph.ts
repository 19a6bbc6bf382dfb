/**
 * GraphBuilder: builds an ONNX computation graph in TypeScript with shapes checked as each op
 * is added (errors name the op and the shapes). Training steps — forward pass, gradients
 * (autodiff.ts), optimizer update (optim.ts) — are one graph; see DESIGN.md decision 1.
 */
import type { Param, DType } from './params.js';
import { Tensor, Int64s, type Attr, type ElemType, type Node } from './tensor.js';
import { axisOf, broadcast, fmt, graphError, sameShape, sizeOf, type Dim, type Shape } from './shape.js';
import { convShape, convTransposeShape, type ConvOptions } from './conv-shape.js';
import { gradients } from './autodiff.js';

export type InputKind = 'data' | 'noise' | 'param' | 'state' | 'flat';

export interface GraphInput {
  readonly kind: InputKind;
  readonly tensor: Tensor;
  readonly param?: Param;
  /** The parameters a 'flat' input holds back to back, in order. */
  readonly params?: readonly Param[];
  /** Initial value of every element of a 'state' input. */
  readonly init?: number;
}

/** Where a parameter lives inside a 'flat' input. */
export interface FlatView {
  readonly flat: Tensor;
  readonly offset: number;
}

export interface GraphOptions {
  dtype?: DType;
  /** 'inputs' (training: the step feeds and updates them) or 'initializers' (inference export). */
  params?: 'inputs' | 'initializers';
}

type Operand = Tensor | number;

export class GraphBuilder {
  readonly dtype: DType;
  readonly paramMode: 'inputs' | 'initializers';
  readonly nodes: Node[] = [];
  readonly inputs = new Map<string, GraphInput>();
  /** Float constants and (in export mode) parameters, serialized as initializers. */
  readonly constants = new Map<Tensor, { values: ArrayLike<number> | (() => ArrayLike<number>) }>();
  readonly outputs = new Map<string, Tensor>();
  /** State input name → the tensor holding its value after the step. */
  readonly updates = new Map<string, Tensor>();
  private nextId = 0;
  private readonly paramTensors = new Map<Param, Tensor>();
  private readonly views = new Map<Param, FlatView>();
  private readonly scalarConsts = new Map<number, Tensor>();

  constructor(
    readonly name: string,
    opts: GraphOptions = {},
  ) {
    this.dtype = opts.dtype ?? 'float32';
    this.paramMode = opts.params ?? 'inputs';
  }

  // ---- graph inputs, state, outputs -------------------------------------------------------

  /** A data input fed on every run. Use a name (`'N'`) for a dimension only known at run time. */
  input(name: string, shape: Shape, opts: { type?: 'float' | 'uint8' } = {}): Tensor {
    return this.addInput(name, shape, 'data', {}, opts.type ?? 'float');
  }

  /** Standard-normal noise of a static shape, drawn from the program's seeded generator each step (reparameterisation). */
  noise(name: string, shape: readonly number[]): Tensor {
    return this.addInput(name, shape, 'noise');
  }

  /** Program-owned state (optimizer moments, step counters) with every element starting at `init`. */
  state(name: string, shape: readonly number[], init = 0): Tensor {
    return this.addInput(name, shape, 'state', { init });
  }

  /** The tensor standing for parameter `p` in this graph (an input when training, an initializer when exported). */
  use(p: Param): Tensor {
    const have = this.paramTensors.get(p);
    if (have !== undefined) return have;
    let t: Tensor;
    if (this.paramMode === 'inputs') t = this.addInput(p.name, p.shape, 'param', { param: p });
    else {
      t = this.tensor(p.name, p.shape, 'float', undefined);
      this.constants.set(t, { values: () => p.value });
    }
    this.paramTensors.set(p, t);
    return t;
  }

  /**
   * One 1-D input `name` holding `params` back to back. Each parameter's tensor in this graph
   * becomes a view of it (Slice, then Reshape), so an optimizer can update all of them with a
   * few large elementwise ops on the vector instead of ~10 small ones per tensor; the program
   * keeps the values in one buffer and `param.value` is a subarray of it.
   */
  flat(name: string, params: readonly Param[]): Tensor {
    if (this.paramMode !== 'inputs') throw graphError('flat', `graph ${this.name} bakes parameters in as initializers`);
    if (params.length === 0) throw graphError('flat', `${name} has no parameters`);
    const total = params.reduce((n, p) => n + p.size, 0);
    const flat = this.addInput(name, [total], 'flat', { params: [...params] });
    let offset = 0;
    for (const p of params) {
      const t = this.use(p);
      const inp = this.inputs.get(p.name);
      if (inp?.kind !== 'param' || inp.tensor !== t || this.views.has(p)) {
        const where = this.views.get(p)?.flat.name;
        throw graphError('flat', `param ${p.name} is already part of ${where ?? 'another flat input'}`);
      }
      if (this.updates.has(p.name)) throw graphError('flat', `param ${p.name} is already updated on its own`);
      // The param stays an input of its own, which the program feeds with a view of the flat
      // buffer (no copy): Slice + Reshape nodes here cost a Split copy and ~3 µs per node.
      this.views.set(p, { flat, offset });
      offset += p.size;
    }
    return flat;
  }

  /** The 'flat' input holding `p` and its offset, if `flat` put it there. */
  viewOf(p: Param): FlatView | undefined {
    return this.views.get(p);
  }

  /** After each run, the state, parameter or flat input `target` takes the value of `next`. */
  update(target: Tensor | Param, next: Tensor): void {
    const t = target instanceof Tensor ? target : this.use(target);
    const inp = this.inputs.get(t.name);
    if (inp === undefined || inp.tensor !== t || (inp.kind !== 'state' && inp.kind !== 'param' && inp.kind !== 'flat')) {
      throw graphError('update', `${t.name} is not a state or parameter input of graph ${this.name}`);
    }
    if (!sameShape(t.shape, next.shape)) throw graphError('update', `${t.name} has shape ${fmt(t.shape)}, new value ${fmt(next.shape)}`, [t.shape, next.shape]);
    if (this.updates.has(t.name)) throw graphError('update', `${t.name} is updated twice`);
    if (target instanceof Tensor ? false : this.views.has(target)) throw graphError('update', `${t.name} is part of flat input ${this.views.get(target as Param)!.flat.name}; update that`);
    this.updates.set(t.name, next);
  }

  /** Declares a graph output. */
  output(name: string, t: Tensor): Tensor {
    if (this.outputs.has(name) || this.inputs.has(name)) throw graphError('output', `name ${name} is already used`);
    this.outputs.set(name, t);
    return t;
  }

  /**
   * The tensor holding the value of `p` (or of a state or flat input) after this graph's
   * updates so far: the update if there is one, else the input.
   */
  latest(p: Param | Tensor): Tensor {
    if (p instanceof Tensor) return this.updates.get(p.name) ?? p;
    const view = this.views.get(p);
    if (view !== undefined) {
      const next = this.updates.get(view.flat.name);
      if (next === undefined) return this.use(p);
      return this.reshape(this.slice(next, [view.offset], [view.offset + p.size], [0]), p.shape);
    }
    return this.updates.get(p.name) ?? this.use(p);
  }

  /** d y / d xs (reverse mode); gradient nodes are ordinary ops, so this can be applied again. */
  gradients(y: Tensor, xs: readonly (Tensor | Param)[], dy?: Tensor): Tensor[] {
    return gradients(this, y, xs.map((x) => (x instanceof Tensor ? x : this.use(x))), dy);
  }

  /** A float constant: a scalar, or an array with a shape. */
  const(values: number | ArrayLike<number>, shape?: readonly number[]): Tensor {
    if (typeof values === 'number' && shape === undefined) {
      const have = this.scalarConsts.get(values);
      if (have !== undefined) return have;
      const t = this.tensor(`const_${this.nextId}`, [], 'float', undefined);
      this.constants.set(t, { values: [values] });
      this.scalarConsts.set(values, t);
      return t;
    }
    const s = shape ?? [typeof values === 'number' ? 1 : values.length];
    const n = sizeOf(s, 'const');
    const arr = typeof values === 'number' ? new Array<number>(n).fill(values) : values;
    if (arr.length !== n) throw graphError('const', `${arr.length} values for shape ${fmt(s)}`, [s]);
    const t = this.tensor(`const_${this.nextId}`, s, 'float', undefined);
    this.constants.set(t, { values: arr });
    return t;
  }

  // ---- linear algebra ----------------------------------------------------------------------

  /** Matrix product of rank ≥ 2 tensors with broadcast batch dimensions. */
  matmul(a: Tensor, b: Tensor): Tensor {
    if (a.rank < 2 || b.rank < 2) throw graphError('MatMul', `operands must have rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`, [a.shape, b.shape]);
    const k1 = a.shape[a.rank - 1]!;
    const k2 = b.shape[b.rank - 2]!;
    if (k1 !== k2) throw graphError('MatMul', `inner dimensions differ: ${fmt(a.shape)} × ${fmt(b.shape)}`, [a.shape, b.shape]);
    const batch = broadcast('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
    return this.emit('MatMul', [a, b], [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!]);
  }

  /** op(a)·op(b) + c for 2-D a, b (op = transpose when flagged); c broadcasts to the result. */
  gemm(a: Tensor, b: Tensor, c?: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
    const ta = opts.transA ?? false;
    const tb = opts.transB ?? false;
    if (a.rank !== 2 || b.rank !== 2) throw graphError('Gemm', `operands must be 2-D, got ${fmt(a.shape)} and ${fmt(b.shape)}`, [a.shape, b.shape]);
    const [m, k1] = ta ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [k2, n] = tb ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (k1 !== k2) throw graphError('Gemm', `inner dimensions differ: ${fmt(a.shape)}${ta ? 'ᵀ' : ''} × ${fmt(b.shape)}${tb ? 'ᵀ' : ''}`, [a.shape, b.shape]);
    const out: Dim[] = [m, n];
    if (c !== undefined && !sameShape(broadcast('Gemm', out, c.shape), out)) {
      throw graphError('Gemm', `bias ${fmt(c.shape)} does not broadcast to ${fmt(out)}`, [c.shape, out]);
    }
    const attrs: Record<string, Attr> = {};
    if (ta) attrs.transA = { i: 1 };
    if (tb) attrs.transB = { i: 1 };
    return this.emit('Gemm', c === undefined ? [a, b] : [a, b, c], out, 'float', attrs);
  }

  // ---- elementwise -------------------------------------------------------------------------

  add(a: Operand, b: Operand): Tensor {
    return this.binary('Add', a, b);
  }
  sub(a: Operand, b: Operand): Tensor {
    return this.binary('Sub', a, b);
  }
  mul(a: Operand, b: Operand): Tensor {
    return this.binary('Mul', a, b);
  }
  div(a: Operand, b: Operand): Tensor {
    return this.binary('Div', a, b);
  }
  pow(a: Operand, b: Operand): Tensor {
    return this.binary('Pow', a, b);
  }
  /** Elementwise maximum. */
  max(a: Operand, b: Operand): Tensor {
    return this.binary('Max', a, b);
  }
  /** Elementwise minimum. */
  min(a: Operand, b: Operand): Tensor {
    return this.binary('Min', a, b);
  }
  greater(a: Operand, b: Operand): Tensor {
    return this.binary('Greater', a, b, 'bool');
  }
  less(a: Operand, b: Operand): Tensor {
    return this.binary('Less', a, b, 'bool');
  }
  equal(a: Operand, b: Operand): Tensor {
    return this.binary('Equal', a, b, 'bool');
  }
  neg(x: Tensor): Tensor {
    return this.unary('Neg', x);
  }
  relu(x: Tensor): Tensor {
    return this.unary('Relu', x);
  }
  tanh(x: Tensor): Tensor {
    return this.unary('Tanh', x);
  }
  sigmoid(x: Tensor): Tensor {
    return this.unary('Sigmoid', x);
  }
  exp(x: Tensor): Tensor {
    return this.unary('Exp', x);
  }
  log(x: Tensor): Tensor {
    return this.unary('Log', x);
  }
  sqrt(x: Tensor): Tensor {
    return this.unary('Sqrt', x);
  }
  abs(x: Tensor): Tensor {
    return this.unary('Abs', x);
  }
  identity(x: Tensor): Tensor {
    return this.unary('Identity', x);
  }
  /** x² (ONNX has no Square op: x·x, whose gradient 2x·dy autodiff derives). */
  square(x: Tensor): Tensor {
    return this.mul(x, x);
  }
  /**
   * log(1 + eˣ), written as relu(x) + log(1 + e^−|x|) so it neither overflows in float32 nor
   * needs a Softplus kernel for float64 graphs; its gradient, sigmoid(x), follows by autodiff.
   */
  softplus(x: Tensor): Tensor {
    return this.add(this.relu(x), this.log(this.add(this.exp(this.neg(this.abs(x))), 1)));
  }

  /** cond ? a : b, broadcasting all three. */
  where(cond: Tensor, a: Operand, b: Operand): Tensor {
    const ta = this.operand(a);
    const tb = this.operand(b);
    if (cond.type !== 'bool') throw graphError('Where', `condition must be boolean, got ${cond.type}`);
    const s = broadcast('Where', broadcast('Where', cond.shape, ta.shape), tb.shape);
    return this.emit('Where', [cond, ta, tb], s);
  }

  /** Clamps to [lo, hi] (either bound may be omitted). */
  clip(x: Tensor, lo?: number, hi?: number): Tensor {
    return this.emit('Clip', [x, lo === undefined ? null : this.const(lo), hi === undefined ? null : this.const(hi)], x.shape);
  }

  /** Boolean → float (1 for true); uint8 → float (its value). */
  toFloat(x: Tensor): Tensor {
    return this.emit('Cast', [x], x.shape, 'float', { to: { i: this.dtype === 'float64' ? 11 : 1 } });
  }

  // ---- shape ops ---------------------------------------------------------------------------

  concat(xs: readonly Tensor[], axis: number): Tensor {
    const first = xs[0];
    if (first === undefined) throw graphError('Concat', 'no operands');
    const ax = axisOf('Concat', axis, first.rank);
    let total: Dim = 0;
    for (const x of xs) {
      if (x.rank !== first.rank || x.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
        throw graphError('Concat', `shapes ${xs.map((t) => fmt(t.shape)).join(' ')} differ outside axis ${ax}`, xs.map((t) => t.shape));
      }
      const d = x.shape[ax]!;
      total = typeof total === 'number' && typeof d === 'number' ? total + d : `${total}+${d}`;
    }
    return this.emit('Concat', xs, first.shape.map((d, i) => (i === ax ? total : d)), 'float', { axis: { i: ax } });
  }

  /** x[start:end] along each of `axes` (step 1; negative indices count from the end). */
  slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Tensor {
    if (starts.length !== axes.length || ends.length !== axes.length) throw graphError('Slice', 'starts, ends and axes differ in length');
    const out = [...x.shape];
    const nAxes: number[] = [];
    axes.forEach((a, i) => {
      const ax = axisOf('Slice', a, x.rank);
      const d = x.shape[ax]!;
      if (typeof d !== 'number') throw graphError('Slice', `axis ${ax} of ${fmt(x.shape)} is not static`, [x.shape]);
      const clamp = (v: number): number => Math.min(d, Math.max(0, v < 0 ? v + d : v));
      const n = clamp(ends[i]!) - clamp(starts[i]!);
      if (n <= 0) throw graphError('Slice', `empty slice ${starts[i]}:${ends[i]} of axis ${ax} in ${fmt(x.shape)}`, [x.shape]);
      out[ax] = n;
      nAxes.push(ax);
    });
    return this.emit('Slice', [x, new Int64s(starts), new Int64s(ends), new Int64s(nAxes)], out);
  }

  /** Splits along `axis` into pieces of the given sizes. */
  split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
    const ax = axisOf('Split', axis, x.rank);
    const d = x.shape[ax];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (d !== total) throw graphError('Split', `sizes ${sizes.join('+')} do not add up to axis ${ax} of ${fmt(x.shape)}`, [x.shape]);
    let at = 0;
    return sizes.map((n) => {
      const t = this.slice(x, [at], [at + n], [ax]);
      at += n;
      return t;
    });
  }

  /** ONNX Reshape: 0 copies the input dimension, one −1 is inferred. */
  reshape(x: Tensor, shape: readonly number[]): Tensor {
    const out: Dim[] = shape.map((d, i) => (d === 0 ? x.shape[i]! : d));
    const infer = out.indexOf(-1);
    if (infer >= 0) {
      const rest = out.filter((_, i) => i !== infer);
      if (rest.every((d) => typeof d === 'number') && x.shape.every((d) => typeof d === 'number')) {
        const known = (rest).reduce((a, b) => a * b, 1);
        const n = sizeOf(x.shape);
        if (n % known !== 0) throw graphError('Reshape', `cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`, [x.shape]);
        out[infer] = n / known;
      } else {
        // Symbolic: only the common flatten case [N, ...] → [N, -1] is inferred.
        const tail = x.shape.slice(1);
        if (out.length !== 2 || infer !== 1 || !tail.every((d) => typeof d === 'number')) {
          throw graphError('Reshape', `cannot infer −1 in ${fmt(shape)} from ${fmt(x.shape)}`, [x.shape]);
        }
        out[1] = (tail).reduce((a, b) => a * b, 1);
      }
    } else if (x.shape.every((d) => typeof d === 'number') && out.every((d) => typeof d === 'number') && sizeOf(out) !== sizeOf(x.shape)) {
      throw graphError('Reshape', `cannot reshape ${fmt(x.shape)} (${sizeOf(x.shape)} values) to ${fmt(shape)}`, [x.shape]);
    }
    return this.emit('Reshape', [x, new Int64s(shape)], out);
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      throw graphError('Transpose', `perm [${perm.join(',')}] is not a permutation for ${fmt(x.shape)}`, [x.shape]);
    }
    return this.emit('Transpose', [x], perm.map((p) => x.shape[p]!), 'float', { perm: { ints: perm } });
  }

  /** Broadcasts x to a static shape. */
  expand(x: Tensor, shape: readonly number[]): Tensor {
    const out = broadcast('Expand', x.shape, shape);
    if (!sameShape(out, shape)) throw graphError('Expand', `${fmt(x.shape)} does not expand to ${fmt(shape)}`, [x.shape, shape]);
    return this.emit('Expand', [x, new Int64s(shape)], out);
  }

  /** Zero padding: `pads` = [begin_0, …, begin_r−1, end_0, …, end_r−1] (ONNX order). */
  pad(x: Tensor, pads: readonly number[]): Tensor {
    if (pads.length !== 2 * x.rank) throw graphError('Pad', `${pads.length} pads for rank ${x.rank}`, [x.shape]);
    const out = x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i]! + pads[i + x.rank]! : d));
    return this.emit('Pad', [x, new Int64s(pads)], out);
  }

  // ---- reductions --------------------------------------------------------------------------

  /** Sum over `axes` (all when omitted). */
  reduceSum(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
    const ax = this.axes('ReduceSum', x, axes);
    return this.emit('ReduceSum', [x, new Int64s(ax)], reduced(x.shape, ax, keepdims), 'float', { keepdims: { i: keepdims ? 1 : 0 } });
  }

  reduceMean(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
    const ax = this.axes('ReduceMean', x, axes);
    return this.emit('ReduceMean', [x], reduced(x.shape, ax, keepdims), 'float', { axes: { ints: ax }, keepdims: { i: keepdims ? 1 : 0 } });
  }

  reduceMax(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
    const ax = this.axes('ReduceMax', x, axes);
    return this.emit('ReduceMax', [x], reduced(x.shape, ax, keepdims), 'float', { axes: { ints: ax }, keepdims: { i: keepdims ? 1 : 0 } });
  }

  /** Mean of all elements (a scalar). */
  mean(x: Tensor): Tensor {
    return this.reduceMean(x);
  }

  // ---- convolution -------------------------------------------------------------------------

  /** 2-D convolution, x [N,C,H,W], w [O,C,kh,kw], bias [O]. */
  conv(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvOptions = {}): Tensor {
    const { shape, attrs } = convShape(x.shape, w.shape, bias?.shape, opts);
    return this.emit('Conv', bias === undefined ? [x, w] : [x, w, bias], shape, 'float', attrs);
  }

  /** 2-D transposed convolution, x [N,C,H,W], w [C,O,kh,kw], bias [O]. */
  convTranspose(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvOptions & { outputPadding?: readonly number[] } = {}): Tensor {
    const { shape, attrs } = convTransposeShape(x.shape, w.shape, bias?.shape, opts);
    return this.emit('ConvTranspose', bias === undefined ? [x, w] : [x, w, bias], shape, 'float', attrs);
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Adds a node; shape inference is the caller's job. */
  emit(op: string, inputs: readonly (Tensor | Int64s | null)[], shape: Shape, type: ElemType = 'float', attrs: Record<string, Attr> = {}): Tensor {
    for (const i of inputs) {
      if (i instanceof Tensor && i.type === 'bool' && op !== 'Where' && op !== 'Cast') {
        throw graphError(op, `operand ${i.name} is boolean; convert it with toFloat()`, [i.shape]);
      }
      if (i instanceof Tensor && i.type === 'uint8' && op !== 'Cast') throw graphError(op, `operand ${i.name} is uint8; convert it with toFloat()`, [i.shape]);
    }
    const node: Node = { op, inputs, attrs, output: undefined as unknown as Tensor };
    node.output = this.tensor(`${op}_${this.nextId}`, shape, type, node);
    this.nodes.push(node);
    return node.output;
  }

  /** A tensor for a number, or the tensor itself. */
  operand(x: Operand): Tensor {
    return typeof x === 'number' ? this.const(x) : x;
  }

  private binary(op: string, a: Operand, b: Operand, type: ElemType = 'float'): Tensor {
    const ta = this.operand(a);
    const tb = this.operand(b);
    return this.emit(op, [ta, tb], broadcast(op, ta.shape, tb.shape), type);
  }

  private unary(op: string, x: Tensor): Tensor {
    return this.emit(op, [x], x.shape);
  }

  private axes(op: string, x: Tensor, axes: readonly number[] | undefined): number[] {
    const ax = axes === undefined ? x.shape.map((_, i) => i) : axes.map((a) => axisOf(op, a, x.rank));
    return [...new Set(ax)].sort((a, b) => a - b);
  }

  private tensor(name: string, shape: Shape, type: ElemType, producer: Node | undefined): Tensor {
    return new Tensor(this.nextId++, name, [...shape], type, producer);
  }

  private addInput(name: string, shape: Shape, kind: InputKind, extra: { param?: Param; params?: readonly Param[]; init?: number } = {}, type: ElemType = 'float'): Tensor {
    if (this.inputs.has(name) || this.outputs.has(name)) throw graphError('input', `name ${name} is already used in graph ${this.name}`);
    const t = this.tensor(name, shape, type, undefined);
    this.inputs.set(name, { kind, tensor: t, ...extra });
    return t;
  }
}

function reduced(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}
