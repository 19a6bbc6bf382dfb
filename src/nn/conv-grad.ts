/**
 * Gradients of 2-D Conv and ConvTranspose, built from Conv, ConvTranspose, Transpose and Slice
 * so they differentiate again. The weight gradient is itself a convolution of the input with
 * the output gradient, batch and channel axes swapped, stride and dilation exchanged.
 */
import type { GraphBuilder } from './graph.js';
import { Tensor, type Node } from './tensor.js';
import { graphError } from './shape.js';

interface ConvAttrs {
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  kernel: [number, number];
}

function attrs(n: Node): ConvAttrs {
  const get = (k: string): readonly number[] => {
    const a = n.attrs[k];
    if (a === undefined || !('ints' in a)) throw graphError(n.op, `missing attribute ${k}`);
    return a.ints;
  };
  const [s, p, d, k] = [get('strides'), get('pads'), get('dilations'), get('kernel_shape')];
  return { strides: [s[0]!, s[1]!], pads: [p[0]!, p[1]!, p[2]!, p[3]!], dilations: [d[0]!, d[1]!], kernel: [k[0]!, k[1]!] };
}

function tensorAt(n: Node, k: number): Tensor {
  const t = n.inputs[k];
  if (!(t instanceof Tensor)) throw graphError(n.op, `input ${k} is not a tensor`);
  return t;
}

const NC = [1, 0, 2, 3];

/** Conv of `a` (as [B,C,H,W]) with kernel `b` (as [O,C,kh,kw]) cut to `kernel` and transposed back to [C?,O?,…]. */
function weightGrad(g: GraphBuilder, a: Tensor, b: Tensor, r: ConvAttrs): Tensor {
  const full = g.conv(g.transpose(a, NC), g.transpose(b, NC), undefined, { stride: r.dilations, dilation: r.strides, pad: r.pads });
  const [kh, kw] = r.kernel;
  const cut = full.shape[2] === kh && full.shape[3] === kw ? full : g.slice(full, [0, 0], [kh, kw], [2, 3]);
  return g.transpose(cut, NC);
}

export function convGrad(g: GraphBuilder, n: Node, dy: Tensor, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, w] = [tensorAt(n, 0), tensorAt(n, 1)];
  const r = attrs(n);
  let dx: Tensor | null = null;
  if (needs[0]) {
    // ConvTranspose of dy with the same weight; output_padding recovers sizes floor() dropped.
    const base = (i: 0 | 1): number =>
      r.strides[i] * ((dy.shape[2 + i] as number) - 1) + r.dilations[i] * (r.kernel[i] - 1) + 1 - r.pads[i] - r.pads[i + 2]!;
    const outputPadding = [(x.shape[2] as number) - base(0), (x.shape[3] as number) - base(1)];
    dx = g.convTranspose(dy, w, undefined, { stride: r.strides, pad: r.pads, dilation: r.dilations, outputPadding });
  }
  // dW[o,c] = Σ_n x[n,c] ⋆ dy[n,o]: convolve x (C as batch) with dy (O as out channels); result [C,O,…] → [O,C,…].
  const dw = needs[1] ? weightGrad(g, x, dy, r) : null;
  const db = needs[2] === true ? g.reduceSum(dy, [0, 2, 3]) : null;
  return [dx, dw, db];
}

export function convTransposeGrad(g: GraphBuilder, n: Node, dy: Tensor, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, w] = [tensorAt(n, 0), tensorAt(n, 1)];
  const r = attrs(n);
  let dx: Tensor | null = null;
  if (needs[0]) {
    const c = g.conv(dy, w, undefined, { stride: r.strides, pad: r.pads, dilation: r.dilations });
    dx = c.shape[2] === x.shape[2] && c.shape[3] === x.shape[3] ? c : g.slice(c, [0, 0], [x.shape[2] as number, x.shape[3] as number], [2, 3]);
  }
  // dW[c,o] = Σ_n dy[n,o] ⋆ x[n,c]: convolve dy (O as batch) with x (C as out channels); result [O,C,…] → [C,O,…].
  const dw = needs[1] ? weightGrad(g, dy, x, r) : null;
  const db = needs[2] === true ? g.reduceSum(dy, [0, 2, 3]) : null;
  return [dx, dw, db];
}
