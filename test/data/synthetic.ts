// Deterministic synthetic transitions for the data tests: transition i's values follow from i,
// so a reader's output can be checked value by value without keeping what was written.
import type { Transition } from '../../src/core/types.js';
import type { TransitionWriterMeta } from '../../src/data/transition-writer.js';

export const OBS_DIM = 4;
export const ACT_DIM = 2;
export const EPISODE_LENGTH = 37;

export function syntheticMeta(robot = 'synthetic', obsDim = OBS_DIM): TransitionWriterMeta {
  return {
    robot,
    obsDim,
    actDim: ACT_DIM,
    actLow: Float32Array.from([-1, -2]),
    actHigh: Float32Array.from([1, 2]),
    generator: 'synthetic test transitions',
    seed: 7,
    requested: 0,
    obsNames: Array.from({ length: obsDim }, (_, k) => `o${k}`),
    units: 'm',
    params: { gain: 0.9 },
  };
}

/** Transition i: episode ⌊i/37⌋, last step of an episode is a violation with no next action. */
export function syntheticTransition(i: number, obsDim = OBS_DIM): Transition {
  const step = i % EPISODE_LENGTH;
  const last = step === EPISODE_LENGTH - 1;
  const obs = new Float32Array(obsDim);
  const nextObs = new Float32Array(obsDim);
  for (let k = 0; k < obsDim; k++) {
    obs[k] = i * 0.25 + k;
    nextObs[k] = (i + 1) * 0.25 + k;
  }
  const t: Transition = {
    obs,
    act: Float32Array.from([Math.sin(i), -Math.cos(i)]),
    cost: last ? 1 : 0,
    nextObs,
    done: last,
    episode: Math.floor(i / EPISODE_LENGTH),
    step,
  };
  return last ? t : { ...t, nextAct: Float32Array.from([Math.sin(i + 1), -Math.cos(i + 1)]) };
}
