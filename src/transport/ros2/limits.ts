/** Hard limits applied to every commanded step, in every mode (shield and record). */

export interface Box3 {
  readonly min: readonly [number, number, number];
  readonly max: readonly [number, number, number];
}

/** Scales a displacement down (direction kept) so its Euclidean length is at most maxStep. Returns true if it clipped. */
export function clampStepNorm(step: Float64Array, maxStep: number): boolean {
  const n = Math.hypot(step[0]!, step[1]!, step[2]!);
  if (n <= maxStep) return false;
  const k = maxStep / n;
  step[0]! *= k;
  step[1]! *= k;
  step[2]! *= k;
  return true;
}

/** Clamps a point into a box, axis by axis. Returns true if it moved the point. */
export function clampToBox(p: Float64Array, box: Box3): boolean {
  let moved = false;
  for (let i = 0; i < 3; i++) {
    const v = p[i]!;
    const lo = box.min[i]!;
    const hi = box.max[i]!;
    if (v < lo) {
      p[i] = lo;
      moved = true;
    } else if (v > hi) {
      p[i] = hi;
      moved = true;
    }
  }
  return moved;
}
