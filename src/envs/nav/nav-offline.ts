import { Rng } from '../../core/rng.js';
import type { RawTransition } from '../raw-transition.js';
import { navStep } from './dynamics.js';
import { inObstacle, nav1Geometry, nav2Geometry, type NavGeometry } from './geometry.js';

/** Steps per rollout in the reference generators. */
const ROLLOUT_STEPS = 10;

function clip1(v: number): number {
  return v < -1 ? -1 : v > 1 ? 1 : v;
}

/** How a rollout's start and actions are drawn. */
interface RolloutKind {
  start(rng: Rng): [number, number];
  action(rng: Rng, out: Float64Array): void;
}

/**
 * Rollouts of at most 10 steps that stop at the first violation; each transition is
 * (s, a, c = C(s'), s', done = c), as the reference's get_offline_data (§1.1, §1.2).
 */
function* rollouts(
  g: NavGeometry,
  B: Float64Array,
  rng: Rng,
  plan: readonly (readonly [RolloutKind, number])[],
): Generator<RawTransition> {
  let episode = 0;
  const s = new Float64Array(2);
  const a = new Float64Array(2);
  const next = new Float64Array(2);
  for (const [kind, count] of plan) {
    for (let r = 0; r < count; r++, episode++) {
      [s[0], s[1]] = kind.start(rng);
      for (let step = 0; step < ROLLOUT_STEPS; step++) {
        kind.action(rng, a);
        navStep(g, B, s, a, rng, next);
        const c = inObstacle(g, next[0] as number, next[1] as number);
        yield {
          obs: Float32Array.from(s),
          act: Float32Array.from(a),
          cost: c ? 1 : 0,
          nextObs: Float32Array.from(next),
          done: c,
          episode,
          step,
        };
        s.set(next);
        if (c) break;
      }
    }
  }
}

const gaussianAction = (rng: Rng, out: Float64Array): void => {
  out[0] = clip1(rng.normal());
  out[1] = clip1(rng.normal());
};

/** Nav1 (§1.1): N/10 rollouts along the corridor walls, x ~ U(-80, 50), |y| ~ U(2, 5), a = clip(N(0, I)). */
export function nav1Offline(n: number, seed: number, B: Float64Array): Generator<RawTransition> {
  const nearWalls: RolloutKind = {
    start: (rng) => {
      const low = rng.next() < 0.5;
      const x = rng.uniform(-80, 50);
      return [x, low ? rng.uniform(-5, -2) : rng.uniform(2, 5)];
    },
    action: gaussianAction,
  };
  return rollouts(nav1Geometry, B, new Rng(seed), [[nearWalls, Math.floor(n / 10)]]);
}

/**
 * Nav2 (§1.2): N/10/3 rollouts from uniform starts outside the block with Gaussian actions,
 * then N/10/4 rollouts aimed at each face of the block.
 */
export function nav2Offline(n: number, seed: number, B: Float64Array): Generator<RawTransition> {
  const g = nav2Geometry;
  const uniform: RolloutKind = {
    start: (rng) => {
      for (;;) {
        const p: [number, number] = [rng.uniform(-40, 10), rng.uniform(-25, 25)];
        if (!inObstacle(g, p[0], p[1])) return p;
      }
    },
    action: gaussianAction,
  };
  const aimed = (
    xr: readonly [number, number],
    yr: readonly [number, number],
    axis: 0 | 1,
    push: readonly [number, number],
  ): RolloutKind => ({
    start: (rng) => [rng.uniform(xr[0], xr[1]), rng.uniform(yr[0], yr[1])],
    action: (rng, out) => {
      const pushed = rng.uniform(push[0], push[1]);
      const free = clip1(rng.normal());
      out[axis] = pushed;
      out[1 - axis] = free;
    },
  });
  const perFace = Math.floor(Math.floor(n / 10) / 4);
  return rollouts(g, B, new Rng(seed), [
    [uniform, Math.floor(Math.floor(n / 10) / 3)],
    [aimed([-35, -30], [-12, 12], 0, [0.5, 1]), perFace],
    [aimed([-20, -15], [-12, 12], 0, [-1, -0.5]), perFace],
    [aimed([-30, -20], [10, 15], 1, [-1, -0.5]), perFace],
    [aimed([-30, -20], [-15, -10], 1, [0.5, 1]), perFace],
  ]);
}
