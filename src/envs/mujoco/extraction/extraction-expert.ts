import type { Controller } from '../../../core/types.js';
import { BLOCK_HALF } from './extraction-mjcf.js';
import { GRASP_Z } from './extraction-env.js';

/** Red block's x, y, z in the observation (after the gripper's 6 joints and block 0's 7 values). */
const RED = 6 + 7;
const ALIGN = 0.004;
/** The fingers touch the block's faces at this joint position; beyond it they squeeze. */
const GRIPPING = 0.05 - 0.005 - BLOCK_HALF[1] - 0.002;

/**
 * The reference's scripted expert for Object Extraction (§1.5), from the state alone: line up
 * with the red block in x, then in y, with the fingers open; descend to the grasp height;
 * close; once the fingers grip, lift. Moves are the largest the action allows (`maxMove`).
 */
export function extractionExpertAction(obs: ArrayLike<number>, maxMove: number, out: Float32Array | Float64Array): void {
  const gx = obs[0] as number;
  const gy = obs[1] as number;
  const gz = obs[2] as number;
  const f = obs[4] as number;
  const dx = (obs[RED] as number) - gx;
  const dy = (obs[RED + 1] as number) - gy;
  const step = (d: number): number => Math.max(-maxMove, Math.min(maxMove, d));
  out.fill(0);
  out[3] = -0.1;
  if (f >= GRIPPING && gz <= GRASP_Z + 0.06) {
    out[2] = maxMove;
    out[3] = 0.1;
  } else if (Math.abs(dx) > ALIGN) {
    out[0] = step(dx);
  } else if (Math.abs(dy) > ALIGN) {
    out[0] = step(dx);
    out[1] = step(dy);
  } else if (gz > GRASP_Z + 0.003) {
    out[0] = step(dx);
    out[1] = step(dy);
    out[2] = step(GRASP_Z - gz);
  } else {
    out[3] = 0.1;
  }
}

export class ExtractionExpertController implements Controller {
  constructor(private readonly maxMove: number) {}

  act(obs: Float32Array): Float32Array {
    const out = new Float32Array(4);
    extractionExpertAction(obs, this.maxMove, out);
    return out;
  }

  reset(): void {}
}
