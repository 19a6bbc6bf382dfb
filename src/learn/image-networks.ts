/**
 * The image critic and its model-free recovery (reference §2 "Image version", §3.1): a conv
 * encoder → FC latent, then twin sigmoid Q_risk heads and a Gaussian recovery head on
 * concat(latent, normalised state). The encoder belongs to the critic; recovery reads the
 * critic's latent without training it (the shield encodes each frame once for both heads).
 *
 * Sizes are smaller than the reference's (conv 128/64/16 on 64×64) so that a CPU trains a
 * model in minutes and encodes a frame in well under 10 ms: the frame is resized to 32×32
 * inside the graph, conv 16 → 32 (k3 s2 p1), FC 64. docs/images.md gives the numbers.
 */
import { cnn, imageInput, twinCritic, type GraphBuilder, type ParamSet, type Tensor } from '../nn/index.js';
import { normalizeAct, normalizeObs, recoveryHead } from './networks.js';
import type { Normalizer } from './normalizer.js';

export interface ImageNetworkSizes {
  /** Model input size; frames of any size are resized to it in the graph. */
  readonly input: { readonly height: number; readonly width: number };
  readonly channels: readonly number[];
  readonly latent: number;
  /** Hidden widths of each critic head and of the recovery trunk. */
  readonly hidden: readonly number[];
}

export const defaultImageSizes: ImageNetworkSizes = { input: { height: 32, width: 32 }, channels: [16, 32], latent: 64, hidden: [128, 128] };

/** image [N, H, W, 3] (uint8, or float 0..255 in training) → latent [N, latent]. */
export function imageEncoder(g: GraphBuilder, p: ParamSet, image: Tensor, sizes: ImageNetworkSizes = defaultImageSizes): Tensor {
  const x = imageInput(g, image, sizes.input);
  return cnn(g, p.scope('enc'), x, { channels: sizes.channels, kernel: 3, stride: 2, pad: 1, out: sizes.latent, outAct: 'relu' });
}

/** Twin Q_risk heads on (latent, s, a): sigmoid heads and Q_risk = max(Q1, Q2). */
export function imageCriticHeads(g: GraphBuilder, p: ParamSet, latent: Tensor, obs: Tensor, act: Tensor, n: Normalizer, sizes: ImageNetworkSizes = defaultImageSizes): { q1: Tensor; q2: Tensor; max: Tensor } {
  return twinCritic(g, p.scope('heads'), g.concat([latent, normalizeObs(g, obs, n)], 1), normalizeAct(g, act, n), { hidden: sizes.hidden });
}

/** Recovery on (latent, s): mean tanh(μ)·scale + bias inside the bounds; with `noise`, a sample. */
export function imageRecoveryHead(g: GraphBuilder, p: ParamSet, latent: Tensor, obs: Tensor, n: Normalizer, noise?: Tensor, sizes: ImageNetworkSizes = defaultImageSizes): { mean: Tensor; sample?: Tensor } {
  return recoveryHead(g, p, g.concat([latent, normalizeObs(g, obs, n)], 1), n, noise, sizes.hidden);
}
