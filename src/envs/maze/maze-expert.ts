import type { Controller } from '../../core/types.js';
import { mazeGeometry } from './geometry.js';

const GAIN = 1.05;

/**
 * The reference's scripted expert (§1.3): head for (-0.15, -0.125) while left of the first
 * wall's approach, then for (0.15, 0.125) through both gaps, then for the goal; a = 1.05·Δ.
 * The env clips the result to ±0.1.
 */
export function mazeExpertAction(x: number, y: number, out: Float32Array | Float64Array): void {
  let tx: number;
  let ty: number;
  if (x <= -0.151) {
    tx = -0.15;
    ty = -0.125;
  } else if (x <= 0.149) {
    tx = 0.15;
    ty = 0.125;
  } else {
    [tx, ty] = mazeGeometry.goal;
  }
  out[0] = GAIN * (tx - x);
  out[1] = GAIN * (ty - y);
}

export class MazeExpertController implements Controller {
  act(obs: Float32Array): Float32Array {
    const out = new Float32Array(2);
    mazeExpertAction(obs[0] as number, obs[1] as number, out);
    return out;
  }

  reset(): void {}
}
