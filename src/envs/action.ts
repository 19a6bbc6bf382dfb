import { RShieldError } from '../core/errors.js';
import type { EnvSpec } from '../core/types.js';

/**
 * Validates an action against a robot's spec and writes it, clipped to the action bounds,
 * into `out`. Every simulated robot's step() goes through here so that a wrong length or a
 * non-finite component is reported the same way everywhere, naming the index and value.
 */
export function readAction(spec: EnvSpec, action: ArrayLike<number>, out: Float64Array): void {
  if (action.length !== spec.actDim) {
    throw new RShieldError(
      'E_BAD_ACTION',
      `${spec.name}: action has ${action.length} values, expected ${spec.actDim}`,
      { robot: spec.name, length: action.length, expected: spec.actDim },
    );
  }
  for (let i = 0; i < spec.actDim; i++) {
    const v = action[i] as number;
    if (!Number.isFinite(v)) {
      throw new RShieldError('E_BAD_ACTION', `${spec.name}: action[${i}] is ${v}, expected a finite number`, {
        robot: spec.name,
        index: i,
        value: v,
      });
    }
    const lo = spec.actLow[i] as number;
    const hi = spec.actHigh[i] as number;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** Float32 copy of a float64 state, the observation type every robot returns. */
export function toObs(state: ArrayLike<number>): Float32Array {
  return Float32Array.from(state);
}
