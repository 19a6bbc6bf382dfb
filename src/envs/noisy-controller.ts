import { Rng } from '../core/rng.js';
import type { Controller, EnvSpec } from '../core/types.js';

/**
 * A controller with seeded Gaussian exploration noise on every action, σ given as a share of
 * each axis' half-range and the result clipped to the bounds: the stand-in for a learning
 * task policy that still explores (SAC in the Recovery RL experiments).
 */
export class NoisyController implements Controller {
  private rng: Rng;
  private readonly std: Float32Array;

  constructor(
    private readonly inner: Controller,
    private readonly spec: EnvSpec,
    noise: number,
    seed: number,
  ) {
    this.rng = new Rng(seed ^ 0x6e6f6973);
    this.std = Float32Array.from(spec.actLow, (lo, i) => (noise * ((spec.actHigh[i] as number) - lo)) / 2);
  }

  act(obs: Float32Array): Float32Array {
    const a = this.inner.act(obs);
    for (let i = 0; i < a.length; i++) {
      const v = (a[i] as number) + (this.std[i] as number) * this.rng.normal();
      const lo = this.spec.actLow[i] as number;
      const hi = this.spec.actHigh[i] as number;
      a[i] = v < lo ? lo : v > hi ? hi : v;
    }
    return a;
  }

  reset(seed?: number): void {
    this.inner.reset(seed);
    if (seed !== undefined) this.rng = new Rng(seed ^ 0x6e6f6973);
  }
}
