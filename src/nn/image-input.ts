/**
 * Camera pre-processing as graph ops (DESIGN.md decision 10): packed HWC pixels → float NCHW
 * at the model's resolution, scaled to [0, 1]. Inside the exported graph, so the execution
 * provider that runs the model runs this too, and a camera of another resolution still feeds
 * a model trained at a fixed one. Nothing here has parameters: no gradient flows through it.
 */
import type { GraphBuilder } from './graph.js';
import { Int64s, type Tensor } from './tensor.js';
import { fmt, graphError } from './shape.js';

export interface ImageInputOptions {
  /** The model's input size (after resizing). */
  readonly height: number;
  readonly width: number;
}

/**
 * x [N, H, W, C] (uint8 as the camera sends it, or float 0..255) → [N, C, height, width]
 * float in [0, 1]. H and W may be symbolic: the resize target is computed from the input's
 * shape at run time (Shape → Slice → Concat), linear with half-pixel centres — an exact 2×2
 * average when halving, as INTER_AREA does.
 */
export function imageInput(g: GraphBuilder, x: Tensor, opts: ImageInputOptions): Tensor {
  if (x.rank !== 4 || typeof x.shape[3] !== 'number') throw graphError('imageInput', `input must be [N,H,W,C] with static C, got ${fmt(x.shape)}`, [x.shape]);
  const f = x.type === 'uint8' ? g.toFloat(x) : x;
  const nchw = g.transpose(f, [0, 3, 1, 2]);
  const same = nchw.shape[2] === opts.height && nchw.shape[3] === opts.width;
  const sized = same ? nchw : resize(g, nchw, opts.height, opts.width);
  return g.mul(sized, 1 / 255);
}

function resize(g: GraphBuilder, x: Tensor, h: number, w: number): Tensor {
  const shape = g.emit('Shape', [x], [4], 'int64');
  const nc = g.emit('Slice', [shape, new Int64s([0]), new Int64s([2]), new Int64s([0])], [2], 'int64');
  const sizes = g.emit('Concat', [nc, new Int64s([h, w])], [4], 'int64', { axis: { i: 0 } });
  return g.emit('Resize', [x, null, null, sizes], [x.shape[0]!, c(x), h, w], 'float', {
    mode: { s: 'linear' },
    coordinate_transformation_mode: { s: 'half_pixel' },
  });
}

function c(x: Tensor): number {
  return x.shape[1] as number;
}
