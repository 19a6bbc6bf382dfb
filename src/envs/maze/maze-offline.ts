import { Rng } from '../../core/rng.js';
import type { RawTransition } from '../raw-transition.js';
import type { Env } from '../../core/types.js';
import { MAZE_MAX_ACTION, MazeEnv } from './maze-env.js';
import { mazeExpertAction } from './maze-expert.js';
import type { MazeMode } from './geometry.js';

const SEGMENT = 20;

function pickMode(u: number): MazeMode {
  return u < 0.3 ? 'e' : u < 0.6 ? 'm' : 'h';
}

/**
 * The reference's maze generator (§1.3): N/2 steps of uniform random actions, then N/2 of
 * expert actions, in 20-step segments that each restart in mode e/m/h (0.3/0.3/0.4) without
 * the start-contact check. As in the reference, a segment keeps stepping after a violation
 * (the frozen tool yields more violating transitions) and after reaching the goal; `done`
 * is the env's done, which the critic uses as its mask. `makeEnv` picks the maze (kinematic or
 * MuJoCo); the generator closes it when it ends.
 */
export function* mazeOffline(
  n: number,
  seed: number,
  makeEnv: (seed: number) => MazeLike = (s) => new MazeEnv({ seed: s }),
): Generator<RawTransition> {
  const rng = new Rng(seed);
  const env = makeEnv(rng.nextUint32());
  try {
    yield* segments(env, rng, n);
  } finally {
    env.close?.();
  }
}

/** A maze that can start an episode in a chosen difficulty. */
export interface MazeLike extends Env {
  resetMode(mode: MazeMode, checkStart: boolean): Float32Array;
}

function* segments(env: MazeLike, rng: Rng, n: number): Generator<RawTransition> {
  const act = new Float64Array(2);
  const half = Math.floor(n / 2);
  let episode = -1;
  let obs: Float32Array = new Float32Array(2);
  for (const phase of ['random', 'expert'] as const) {
    for (let i = 0; i < half; i++) {
      if (i % SEGMENT === 0) {
        obs = env.resetMode(pickMode(rng.next()), false);
        episode++;
      }
      if (phase === 'random') {
        act[0] = rng.uniform(-MAZE_MAX_ACTION, MAZE_MAX_ACTION);
        act[1] = rng.uniform(-MAZE_MAX_ACTION, MAZE_MAX_ACTION);
      } else {
        mazeExpertAction(obs[0] as number, obs[1] as number, act);
        for (let k = 0; k < 2; k++) act[k] = Math.min(MAZE_MAX_ACTION, Math.max(-MAZE_MAX_ACTION, act[k] as number));
      }
      const r = env.step(act);
      yield {
        obs,
        act: Float32Array.from(act),
        cost: r.violation ? 1 : 0,
        nextObs: r.obs,
        done: r.done,
        episode,
        step: i % SEGMENT,
      };
      obs = r.obs;
    }
  }
}
