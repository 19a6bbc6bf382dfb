import type { Rng } from '../../core/rng.js';
import { inObstacle, type NavGeometry } from './geometry.js';

/** Process noise standard deviation (reference NOISE_SCALE). */
export const NAV_NOISE = 0.05;

/**
 * One step of s' = A s + B a + 0.05·N(0, I) with A = I (reference §1.1). B is row-major 2×2.
 * A robot inside an obstacle stays where it is (the reference freezes it). Writes into `out`,
 * which may alias `s`. Draws exactly two normals unless frozen, as the reference does.
 */
export function navStep(
  g: NavGeometry,
  B: Float64Array,
  s: Float64Array,
  a: ArrayLike<number>,
  rng: Rng,
  out: Float64Array,
): void {
  const x = s[0] as number;
  const y = s[1] as number;
  if (inObstacle(g, x, y)) {
    out[0] = x;
    out[1] = y;
    return;
  }
  const a0 = a[0] as number;
  const a1 = a[1] as number;
  const n0 = rng.normal();
  const n1 = rng.normal();
  out[0] = x + (B[0] as number) * a0 + (B[1] as number) * a1 + NAV_NOISE * n0;
  out[1] = y + (B[2] as number) * a0 + (B[3] as number) * a1 + NAV_NOISE * n1;
}
