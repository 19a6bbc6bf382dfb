import { Rng } from '../../core/rng.js';
import type { RawTransition } from '../raw-transition.js';
import { type EnvOptions } from '../options.js';
import { CARTPOLE_MAX_ACTION, CartpoleEnv } from './cartpole-env.js';

const SEGMENT = 30;

/**
 * MESA's gen_cartpole_demos (§6.3): uniform random actions in 30-step segments from fresh
 * resets; a segment does not stop at a violation, so a fallen pole keeps producing violating
 * transitions. `done` is the reference's mask (done = c). Stops after exactly N transitions.
 */
export function* cartpoleOffline(n: number, seed: number, params: EnvOptions): Generator<RawTransition> {
  const rng = new Rng(seed);
  const env = new CartpoleEnv({ ...params, seed: rng.nextUint32() });
  const act = new Float32Array(1);
  let obs: Float32Array = new Float32Array(4);
  for (let i = 0; i < n; i++) {
    const step = i % SEGMENT;
    if (step === 0) obs = env.reset();
    act[0] = rng.uniform(-CARTPOLE_MAX_ACTION, CARTPOLE_MAX_ACTION);
    const r = env.step(act);
    yield {
      obs,
      act: Float32Array.from(act),
      cost: r.violation ? 1 : 0,
      nextObs: r.obs,
      done: r.violation,
      episode: Math.floor(i / SEGMENT),
      step,
    };
    obs = r.obs;
  }
}
