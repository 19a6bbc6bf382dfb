import type { Controller } from '../../../core/types.js';

/** An open-loop gait: a_i = amplitude · sin(2π f t + φ_i), clipped by the env to [-1, 1]. */
export interface Gait {
  readonly amplitude: number;
  /** Cycles per env step. */
  readonly frequency: number;
  readonly phases: readonly number[];
}

/**
 * MESA's disabled robots have no scripted controller (their data came from SAC runs), so the
 * "existing controller" is a heuristic: a fixed periodic gait that moves the robot forward —
 * a bounding gait for the cheetah (back and front legs half a cycle apart), a trot for the ant
 * (diagonal legs together). It flips now and then, more often with a joint disabled.
 */
export const cheetahGait: Gait = { amplitude: 1, frequency: 0.03, phases: [0, 0.6, 1.2, Math.PI, Math.PI + 0.6, Math.PI + 1.2] };
// Actuators: hip3, ankle3, hip0, ankle0, hip1, ankle1, hip2, ankle2 (legs 3 and 1 diagonal).
export const antGait: Gait = { amplitude: 0.6, frequency: 0.08, phases: [0, Math.PI / 2, Math.PI, -Math.PI / 2, 0, Math.PI / 2, Math.PI, -Math.PI / 2] };

export function gaitAction(g: Gait, t: number, out: Float32Array | Float64Array): void {
  const w = 2 * Math.PI * g.frequency * t;
  for (let i = 0; i < g.phases.length; i++) out[i] = g.amplitude * Math.sin(w + (g.phases[i] as number));
}

export class GaitController implements Controller {
  #t = 0;

  constructor(private readonly gait: Gait) {}

  act(): Float32Array {
    const out = new Float32Array(this.gait.phases.length);
    gaitAction(this.gait, this.#t++, out);
    return out;
  }

  reset(): void {
    this.#t = 0;
  }
}
