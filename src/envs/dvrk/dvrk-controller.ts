import type { Controller } from '../../core/types.js';
import { dvrkReacherGeometry as G } from './geometry.js';

/**
 * The "existing controller" the shield protects: straight at the target, a = d scaled so no
 * axis exceeds 5 mm. It ignores the stay-out zone, so it is unsafe by design.
 */
export class DvrkStraightLineController implements Controller {
  act(obs: Float32Array): Float32Array {
    const out = new Float32Array(3);
    let m = 0;
    for (let i = 0; i < 3; i++) {
      const d = (G.target[i] as number) - (obs[i] as number);
      out[i] = d;
      m = Math.max(m, Math.abs(d));
    }
    if (m > G.maxStep) for (let i = 0; i < 3; i++) out[i] = ((out[i] as number) * G.maxStep) / m;
    return out;
  }

  reset(): void {}
}
