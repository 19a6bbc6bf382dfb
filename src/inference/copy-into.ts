/**
 * Copies a caller's obs or action into a model's own input buffer, without allocating: every
 * ONNX Runtime model of the tick path (onnx-risk-model.ts, image-heads-model.ts, the planner and
 * nearest-safe models) feeds tensors made once over buffers it owns. `src` may be any array-like
 * (a plain array from a library caller, a hand-off's shared view); `dst.length` values are read.
 */
export function copyInto(dst: Float32Array, src: ArrayLike<number>): void {
  for (let i = 0; i < dst.length; i++) dst[i] = src[i] as number;
}
