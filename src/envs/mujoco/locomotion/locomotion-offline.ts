import { Rng } from '../../../core/rng.js';
import type { EnvOptions } from '../../options.js';
import type { RawTransition } from '../../raw-transition.js';
import { gaitAction, type Gait } from './gait-controller.js';
import type { LocomotionEnv } from './locomotion-env.js';

const ROLLOUT = 100;
/** Share of rollouts that drive bang-bang random actions. */
const WILD = 0.3;
/** Share of rollouts that start tipped (pitched 1–2.5 rad either way, spinning): the probes of the constraint. */
const TIPPED = 0.5;

/**
 * D_offline for the disabled robots. MESA's came from SAC runs that are not public (§6.3), so
 * this is a controlled stand-in: rollouts of ≤ 100 steps, ending at the first flip; 70% run
 * the gait with a random amplitude (0.5–1.5×), frequency (0.7–1.3×) and σ 0.3 action noise,
 * 30% drive random ±1 actions held for 5–20 steps. Either kind starts tipped in half of the
 * rollouts (pitched by 1–2.5 rad either way, raised up to 0.3 m, spinning at up to ±4 rad/s), so that
 * states near a flip and the actions that avoid or cause it are in the data: from upright, the
 * robots almost never flip (the cheetah's gait: no flip in 3000 steps).
 */
export function* locomotionOffline(make: (o: EnvOptions) => LocomotionEnv, gait: Gait, n: number, seed: number, params: EnvOptions): Generator<RawTransition> {
  const rng = new Rng(seed);
  const env = make({ ...params, seed: rng.nextUint32() });
  const A = env.spec.actDim;
  const act = new Float64Array(A);
  try {
    let produced = 0;
    for (let episode = 0; produced < n; episode++) {
      let obs = rng.next() < TIPPED ? env.resetTipped((rng.next() < 0.5 ? -1 : 1) * rng.uniform(1, 2.5), rng.uniform(0, 0.3), rng.uniform(-4, 4)) : env.reset();
      const wild = rng.next() < WILD;
      const g: Gait = { ...gait, amplitude: gait.amplitude * rng.uniform(0.5, 1.5), frequency: gait.frequency * rng.uniform(0.7, 1.3) };
      let hold = 0;
      for (let step = 0; step < ROLLOUT && produced < n; step++) {
        if (wild) {
          if (hold-- <= 0) {
            for (let i = 0; i < A; i++) act[i] = rng.next() < 0.5 ? -1 : 1;
            hold = 5 + rng.int(16);
          }
        } else {
          gaitAction(g, step, act);
          for (let i = 0; i < A; i++) act[i] = Math.max(-1, Math.min(1, (act[i] as number) + 0.3 * rng.normal()));
        }
        const r = env.step(act);
        yield { obs, act: Float32Array.from(act), cost: r.violation ? 1 : 0, nextObs: r.obs, done: r.done || step === ROLLOUT - 1, episode, step };
        produced++;
        obs = r.obs;
        if (r.violation) break;
      }
    }
  } finally {
    env.close();
  }
}
