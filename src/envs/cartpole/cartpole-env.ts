import { Rng } from '../../core/rng.js';
import type { Env, EnvSpec, StepResult } from '../../core/types.js';
import { readAction, toObs } from '../action.js';
import { OptionReader, type EnvOptions } from '../options.js';
import { paramSeed } from '../seeds.js';
import { CartpoleIntegrator, cartpoleViolation } from './dynamics.js';

export const CARTPOLE_HORIZON = 200;
export const CARTPOLE_MAX_ACTION = 3;
/** MESA's pole length when fixed (its CartPoleEnv forces init_length = 1.0). */
export const CARTPOLE_DEFAULT_LENGTH = 1.0;
/** MESA's training range of pole lengths (§6.3), used by randomizeLength. */
export const CARTPOLE_LENGTH_RANGE = [0.4, 0.8] as const;
/** MESA counts an episode a success when its return exceeds 160. */
export const CARTPOLE_SUCCESS_RETURN = 160;

/** Resolves the pole length: `length` (m), or `randomizeLength` drawing U(0.4, 0.8) once. */
export function cartpoleLength(opts: EnvOptions): { seed: number; length: number } {
  const r = new OptionReader('cartpole-length', opts, ['length', 'randomizeLength']);
  const seed = r.seed();
  const length = r.number('length', CARTPOLE_DEFAULT_LENGTH, [0.05, 5]);
  if (r.boolean('randomizeLength', false)) {
    return { seed, length: new Rng(paramSeed(seed)).uniform(...CARTPOLE_LENGTH_RANGE) };
  }
  return { seed, length };
}

/**
 * MESA's CartPole-Length (§6.3): state [x, θ, ẋ, θ̇], one action ∈ [-3, 3] (× gear 100 N),
 * violation |θ| > π/2 or |x| ≥ 2.4, horizon 200, reward exp(−||tip − (0, L)||² / L²).
 * Start: every state component ~ U(-0.01, 0.01), as the MuJoCo reset.
 */
export class CartpoleEnv implements Env {
  readonly spec: EnvSpec;
  readonly length: number;
  private readonly integrator: CartpoleIntegrator;
  private rng: Rng;
  private readonly state = new Float64Array(4);
  private readonly act = new Float64Array(1);
  private t = 0;
  private episodeReturn = 0;

  constructor(opts: EnvOptions = {}) {
    const { seed, length } = cartpoleLength(opts);
    this.length = length;
    this.integrator = new CartpoleIntegrator(length);
    this.rng = new Rng(seed);
    this.spec = {
      name: 'cartpole-length',
      obsDim: 4,
      actDim: 1,
      actLow: Float32Array.from([-CARTPOLE_MAX_ACTION]),
      actHigh: Float32Array.from([CARTPOLE_MAX_ACTION]),
      horizon: CARTPOLE_HORIZON,
      units: 'm, rad, m/s, rad/s',
      obsNames: ['x', 'theta', 'x_dot', 'theta_dot'],
    };
    // Start in the state the first reset() returns: re-seed after drawing it.
    this.resetState();
    this.rng = new Rng(seed);
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.rng = new Rng(seed);
    this.resetState();
    return toObs(this.state);
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.act);
    this.integrator.step(this.state, this.act[0] as number);
    this.t++;
    const x = this.state[0] as number;
    const th = this.state[1] as number;
    const L = this.length;
    const ex = x + L * Math.sin(th);
    const ey = L * Math.cos(th) - L;
    const reward = Math.exp(-(ex * ex + ey * ey) / (L * L));
    this.episodeReturn += reward;
    const violation = cartpoleViolation(x, th);
    const timeUp = this.t >= CARTPOLE_HORIZON;
    return {
      obs: toObs(this.state),
      reward,
      violation,
      success: timeUp && !violation && this.episodeReturn > CARTPOLE_SUCCESS_RETURN,
      done: violation || timeUp,
    };
  }

  private resetState(): void {
    for (let i = 0; i < 4; i++) this.state[i] = this.rng.uniform(-0.01, 0.01);
    this.t = 0;
    this.episodeReturn = 0;
  }
}
