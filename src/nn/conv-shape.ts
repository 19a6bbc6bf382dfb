/** Shape inference and attributes of 2-D Conv / ConvTranspose (ONNX operator spec formulas). */
import type { Attr } from './tensor.js';
import { fmt, graphError, type Dim, type Shape } from './shape.js';

export interface ConvOptions {
  stride?: number | readonly [number, number];
  /** Same padding on every side, or [top, left, bottom, right]. */
  pad?: number | readonly [number, number, number, number];
  dilation?: number | readonly [number, number];
}

export interface ResolvedConv {
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  kernel: [number, number];
}

function pair(v: number | readonly [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export function resolveConv(op: string, x: Shape, w: Shape, opts: ConvOptions): ResolvedConv {
  if (x.length !== 4 || w.length !== 4) throw graphError(op, `expects x [N,C,H,W] and w 4-D, got ${fmt(x)} and ${fmt(w)}`, [x, w]);
  const kh = w[2];
  const kw = w[3];
  if (typeof kh !== 'number' || typeof kw !== 'number') throw graphError(op, `kernel ${fmt(w)} is not static`, [w]);
  const p = opts.pad ?? 0;
  const pads: [number, number, number, number] = typeof p === 'number' ? [p, p, p, p] : [p[0], p[1], p[2], p[3]];
  return { strides: pair(opts.stride, 1), pads, dilations: pair(opts.dilation, 1), kernel: [kh, kw] };
}

export function convAttrs(r: ResolvedConv): Record<string, Attr> {
  return { kernel_shape: { ints: r.kernel }, strides: { ints: r.strides }, pads: { ints: r.pads }, dilations: { ints: r.dilations } };
}

function checkBias(op: string, b: Shape | undefined, o: Dim): void {
  if (b !== undefined && (b.length !== 1 || b[0] !== o)) throw graphError(op, `bias ${fmt(b)} must be [${o}]`, [b]);
}

function spatial(op: string, d: Dim, f: (n: number) => number): Dim {
  if (typeof d !== 'number') return d;
  const n = f(d);
  if (n <= 0) throw graphError(op, `output size ${n} ≤ 0`);
  return n;
}

export function convShape(x: Shape, w: Shape, b: Shape | undefined, opts: ConvOptions): { shape: Dim[]; attrs: Record<string, Attr> } {
  const r = resolveConv('Conv', x, w, opts);
  if (x[1] !== w[1]) throw graphError('Conv', `x has ${x[1]} channels, weight ${fmt(w)} expects ${w[1]}`, [x, w]);
  checkBias('Conv', b, w[0]!);
  const out = (i: 0 | 1) => (n: number) =>
    Math.floor((n + r.pads[i] + r.pads[i + 2]! - r.dilations[i] * (r.kernel[i] - 1) - 1) / r.strides[i]) + 1;
  return { shape: [x[0]!, w[0]!, spatial('Conv', x[2]!, out(0)), spatial('Conv', x[3]!, out(1))], attrs: convAttrs(r) };
}

export function convTransposeShape(
  x: Shape,
  w: Shape,
  b: Shape | undefined,
  opts: ConvOptions & { outputPadding?: readonly number[] },
): { shape: Dim[]; attrs: Record<string, Attr> } {
  const r = resolveConv('ConvTranspose', x, w, opts);
  if (x[1] !== w[0]) throw graphError('ConvTranspose', `x has ${x[1]} channels, weight ${fmt(w)} expects ${w[0]}`, [x, w]);
  checkBias('ConvTranspose', b, w[1]!);
  const op = opts.outputPadding ?? [0, 0];
  const out = (i: 0 | 1) => (n: number) =>
    r.strides[i] * (n - 1) + (op[i] ?? 0) + r.dilations[i] * (r.kernel[i] - 1) + 1 - r.pads[i] - r.pads[i + 2]!;
  const attrs = convAttrs(r);
  if (op.some((v) => v !== 0)) attrs.output_padding = { ints: op };
  return { shape: [x[0]!, w[1]!, spatial('ConvTranspose', x[2]!, out(0)), spatial('ConvTranspose', x[3]!, out(1))], attrs };
}
