/**
 * A small convolutional encoder for image critics: conv+ReLU layers, flatten, linear.
 * Input [N, C, H, W]; output [N, out].
 */
import type { GraphBuilder } from './graph.js';
import type { Tensor } from './tensor.js';
import type { ParamSet } from './params.js';
import { activate, linear, weightInit, type Activation, type InitKind } from './layers.js';
import { fmt, graphError } from './shape.js';

export interface CnnOptions {
  /** Output channels of each conv layer (default [16, 32]). */
  channels?: readonly number[];
  kernel?: number;
  stride?: number;
  pad?: number;
  /** Width of the final linear layer. */
  out: number;
  act?: Activation;
  /** Activation after the final linear layer (default none). */
  outAct?: Activation;
  init?: InitKind;
}

export function cnn(g: GraphBuilder, p: ParamSet, x: Tensor, opts: CnnOptions): Tensor {
  if (x.rank !== 4 || typeof x.shape[1] !== 'number') throw graphError('cnn', `input must be [N,C,H,W], got ${fmt(x.shape)}`, [x.shape]);
  const k = opts.kernel ?? 3;
  const init = opts.init ?? 'he';
  let h = x;
  (opts.channels ?? [16, 32]).forEach((c, i) => {
    const cin = h.shape[1] as number;
    const lp = p.scope(`conv${i}`);
    const w = g.use(lp.get('w', [c, cin, k, k], weightInit(init, cin * k * k, c * k * k)));
    const b = g.use(lp.get('b', [c], { kind: 'const', value: 0 }));
    h = activate(g, g.conv(h, w, b, { stride: opts.stride ?? 2, pad: opts.pad ?? 1 }), opts.act ?? 'relu');
  });
  const flat = g.reshape(h, [0, -1]);
  return activate(g, linear(g, p.scope('fc'), flat, opts.out, { init: init === 'he' ? 'xavier' : init }), opts.outAct ?? 'none');
}
