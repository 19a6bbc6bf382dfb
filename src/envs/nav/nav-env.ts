import { RShieldError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Env, EnvSpec, StepResult } from '../../core/types.js';
import { readAction, toObs } from '../action.js';
import { OptionReader, type EnvOptions } from '../options.js';
import { paramSeed } from '../seeds.js';
import { navStep } from './dynamics.js';
import { inObstacle, type NavGeometry } from './geometry.js';

export const NAV_HORIZON = 100;
/**
 * Success radius. The reference code ends the episode and counts success at ||s - goal|| < 4
 * (reward > -4); the paper's text says 1 unit. We follow the code (every plotted number used
 * it) and let `goalRadius: 1` select the paper's definition.
 */
export const NAV_GOAL_RADIUS = 4;

export interface NavParams {
  readonly seed: number;
  /** Row-major 2×2 input matrix B (MESA varies it; reference default I). */
  readonly B: Float64Array;
  readonly goalRadius: number;
}

/** Parses nav options: `B` ([b1, b2] diagonal or 4 values row-major), `randomizeB`, `goalRadius`. */
export function navParams(robot: string, opts: EnvOptions): NavParams {
  const r = new OptionReader(robot, opts, ['B', 'randomizeB', 'goalRadius']);
  const seed = r.seed();
  const given = r.numbers('B', [2, 4]);
  const randomize = r.boolean('randomizeB', false);
  const goalRadius = r.number('goalRadius', NAV_GOAL_RADIUS, [0, Infinity]);
  let B: Float64Array;
  if (given && randomize) {
    throw new RShieldError('E_CONFIG', `${robot}: options 'B' and 'randomizeB' exclude each other`, { robot });
  } else if (given) {
    B = given.length === 2 ? Float64Array.from([given[0] ?? 1, 0, 0, given[1] ?? 1]) : Float64Array.from(given);
  } else if (randomize) {
    // MESA §6.3: B = diag(U(0.5, 1.5), U(0.5, 1.5)), drawn once per robot (env construction).
    const pr = new Rng(paramSeed(seed));
    const b1 = pr.uniform(0.5, 1.5);
    const b2 = pr.uniform(0.5, 1.5);
    B = Float64Array.from([b1, 0, 0, b2]);
  } else {
    B = Float64Array.from([1, 0, 0, 1]);
  }
  return { seed, B, goalRadius };
}

/**
 * Navigation 1 / 2 (reference §1.1, §1.2): s' = s + B a + 0.05·N(0, I), actions clipped to
 * [-1, 1]², frozen inside an obstacle, horizon 100. Reward and success are computed on the
 * state before the step, as in the reference.
 */
export class NavEnv implements Env {
  readonly spec: EnvSpec;
  readonly params: NavParams;
  private readonly geometry: NavGeometry;
  private rng: Rng;
  private readonly state = new Float64Array(2);
  private readonly act = new Float64Array(2);
  private t = 0;

  constructor(name: string, geometry: NavGeometry, opts: EnvOptions = {}) {
    this.geometry = geometry;
    this.params = navParams(name, opts);
    this.rng = new Rng(this.params.seed);
    this.spec = {
      name,
      obsDim: 2,
      actDim: 2,
      actLow: Float32Array.from([-1, -1]),
      actHigh: Float32Array.from([1, 1]),
      horizon: NAV_HORIZON,
      units: 'unit',
      obsNames: ['x', 'y'],
    };
    // Start in the state the first reset() returns: re-seed after drawing it.
    this.resetState();
    this.rng = new Rng(this.params.seed);
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.rng = new Rng(seed);
    this.resetState();
    return toObs(this.state);
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.act);
    const [gx, gy] = this.geometry.goal;
    const reward = -Math.hypot((this.state[0] as number) - gx, (this.state[1] as number) - gy);
    navStep(this.geometry, this.params.B, this.state, this.act, this.rng, this.state);
    this.t++;
    const violation = inObstacle(this.geometry, this.state[0] as number, this.state[1] as number);
    const success = reward > -this.params.goalRadius;
    return { obs: toObs(this.state), reward, violation, success, done: violation || success || this.t >= NAV_HORIZON };
  }

  private resetState(): void {
    this.t = 0;
    this.state[0] = this.geometry.start[0] + this.rng.normal();
    this.state[1] = this.geometry.start[1] + this.rng.normal();
  }
}
