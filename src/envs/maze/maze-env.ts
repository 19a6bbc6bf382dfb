import { Rng } from '../../core/rng.js';
import type { Env, EnvSpec, StepResult } from '../../core/types.js';
import { readAction, toObs } from '../action.js';
import { OptionReader, type EnvOptions } from '../options.js';
import { mazeContact, mazeGeometry, mazeModes, mazeSweep, type MazeMode } from './geometry.js';

export const MAZE_HORIZON = 100;
export const MAZE_MAX_ACTION = 0.1;
/**
 * Displacement per unit action. In the reference MuJoCo model a step applies the force
 * 0.05·a N (motor gear 0.05) to the 0.098 kg tool (r 0.025 m, half-height 0.025 m, density
 * 1000) from rest for 500 steps of 2 ms, with negligible damping: Δ = ½·(F/m)·t² ≈ 0.255·a.
 */
export const MAZE_STEP_GAIN = 0.255;

/**
 * Kinematic re-creation of the Recovery RL maze (reference §1.3). Each step moves the tool
 * centre by MAZE_STEP_GAIN·a along a straight line; if the disc touches a wall or the arena
 * boundary on the way, it stops there and the step is a violation (mazeSweep). A tool already
 * in contact does not move, as the reference skips simulation when in contact.
 */
export class MazeEnv implements Env {
  readonly spec: EnvSpec;
  private readonly mode: MazeMode;
  private readonly checkStart: boolean;
  private rng: Rng;
  private readonly state = new Float64Array(2);
  private readonly act = new Float64Array(2);
  private contact = false;
  private t = 0;

  constructor(opts: EnvOptions = {}) {
    const r = new OptionReader('maze', opts, ['mode', 'checkStart']);
    this.rng = new Rng(r.seed());
    this.mode = r.oneOf('mode', mazeModes, 'h');
    this.checkStart = r.boolean('checkStart', true);
    this.spec = mazeSpec('maze');
    // Start in the state the first reset() returns: re-seed after drawing it.
    this.place(this.mode, this.checkStart);
    this.rng = new Rng(r.seed());
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.rng = new Rng(seed);
    this.place(this.mode, this.checkStart);
    return toObs(this.state);
  }

  /** Starts an episode in a given difficulty (the offline generator mixes them). */
  resetMode(mode: MazeMode, checkStart: boolean): Float32Array {
    this.place(mode, checkStart);
    return toObs(this.state);
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.act);
    if (!this.contact) {
      const x = this.state[0] as number;
      const y = this.state[1] as number;
      const dx = MAZE_STEP_GAIN * (this.act[0] as number);
      const dy = MAZE_STEP_GAIN * (this.act[1] as number);
      const hit = mazeSweep(x, y, dx, dy);
      const f = hit <= 1 ? hit : 1;
      this.state[0] = x + f * dx;
      this.state[1] = y + f * dy;
      this.contact = hit <= 1;
    }
    this.t++;
    const dist = mazeDistance(this.state[0] as number, this.state[1] as number);
    const success = dist < mazeGeometry.goalThreshold;
    const violation = this.contact;
    return {
      obs: toObs(this.state),
      reward: -dist,
      violation,
      success,
      done: violation || success || this.t >= MAZE_HORIZON,
    };
  }

  private place(mode: MazeMode, checkStart: boolean): void {
    const [x0, x1] = mazeGeometry.startX[mode];
    const [y0, y1] = mazeGeometry.startY;
    do {
      this.state[0] = this.rng.uniform(x0, x1);
      this.state[1] = this.rng.uniform(y0, y1);
      this.contact = mazeContact(this.state[0], this.state[1]);
    } while (checkStart && this.contact);
    this.t = 0;
  }
}

/** The maze's spaces (kinematic or MuJoCo): the tool centre (x, y), a ∈ [-0.1, 0.1]², 100 steps. */
export function mazeSpec(name: string): EnvSpec {
  return {
    name,
    obsDim: 2,
    actDim: 2,
    actLow: Float32Array.from([-MAZE_MAX_ACTION, -MAZE_MAX_ACTION]),
    actHigh: Float32Array.from([MAZE_MAX_ACTION, MAZE_MAX_ACTION]),
    horizon: MAZE_HORIZON,
    units: 'm',
    obsNames: ['x', 'y'],
  };
}

/** The reference's distance score: the RMS over the two coordinates, ||goal - s|| / √2. */
export function mazeDistance(x: number, y: number): number {
  const [gx, gy] = mazeGeometry.goal;
  return Math.hypot(gx - x, gy - y) / Math.SQRT2;
}
