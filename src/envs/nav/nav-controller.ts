import type { Controller } from '../../core/types.js';
import type { NavGeometry } from './geometry.js';

/**
 * Proportional controller straight at the goal, a = clip(k·(goal - s), ±1). In nav2 the
 * straight line runs through the block: the unsafe "existing controller" a shield protects.
 */
export class NavGoalController implements Controller {
  constructor(
    private readonly geometry: NavGeometry,
    private readonly gain = 1,
  ) {}

  act(obs: Float32Array): Float32Array {
    const out = new Float32Array(2);
    for (let i = 0; i < 2; i++) {
      const v = this.gain * ((this.geometry.goal[i] as number) - (obs[i] as number));
      out[i] = v < -1 ? -1 : v > 1 ? 1 : v;
    }
    return out;
  }

  reset(): void {}
}
