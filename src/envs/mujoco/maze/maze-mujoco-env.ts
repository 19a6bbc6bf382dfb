import { Rng } from '../../../core/rng.js';
import type { Env, EnvSpec, StepResult } from '../../../core/types.js';
import { readAction, toObs } from '../../action.js';
import { mazeGeometry, mazeModes, type MazeMode } from '../../maze/geometry.js';
import { MAZE_HORIZON, mazeDistance, mazeSpec } from '../../maze/maze-env.js';
import { OptionReader, type EnvOptions } from '../../options.js';
import { MujocoSim, type MujocoBacked } from '../mujoco-sim.js';
import { mujocoRuntime } from '../runtime.js';
import { MAZE_MUJOCO_FRAME_SKIP, mazeMjcf } from './maze-mjcf.js';

export const MAZE_MUJOCO = 'maze-mujoco';

/**
 * The Recovery RL maze on MuJoCo contacts (reference §1.3): the same arena, walls, starts,
 * goal, reward, horizon and expert as `maze`, but each step is the reference's — velocities
 * zeroed, the action as motor controls for 500 × 2 ms, velocities zeroed again — and C(s) is
 * "the tool has a contact". A tool already in contact is not simulated (the reference skips
 * it), so a violating state stays put, as in the reference's D_offline.
 */
export class MazeMujocoEnv implements Env, MujocoBacked {
  readonly spec: EnvSpec;
  readonly #sim: MujocoSim;
  readonly #mode: MazeMode;
  readonly #checkStart: boolean;
  readonly #act = new Float64Array(2);
  #rng: Rng;
  #contact = false;
  #t = 0;

  constructor(opts: EnvOptions = {}) {
    const r = new OptionReader(MAZE_MUJOCO, opts, ['mode', 'checkStart']);
    this.#rng = new Rng(r.seed());
    this.#mode = r.oneOf('mode', mazeModes, 'h');
    this.#checkStart = r.boolean('checkStart', true);
    this.spec = mazeSpec(MAZE_MUJOCO);
    this.#sim = new MujocoSim(mujocoRuntime(MAZE_MUJOCO), MAZE_MUJOCO, mazeMjcf(), MAZE_MUJOCO_FRAME_SKIP);
    this.#place(this.#mode, this.#checkStart);
    this.#rng = new Rng(r.seed());
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.#rng = new Rng(seed);
    this.#place(this.#mode, this.#checkStart);
    return this.#obs();
  }

  /** Starts an episode in a given difficulty (the offline generator mixes them). */
  resetMode(mode: MazeMode, checkStart: boolean): Float32Array {
    this.#place(mode, checkStart);
    return this.#obs();
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.#act);
    const sim = this.#sim;
    if (!this.#contact) {
      sim.qvel.fill(0);
      sim.ctrl[0] = this.#act[0] as number;
      sim.ctrl[1] = this.#act[1] as number;
      sim.step();
      sim.qvel.fill(0);
      this.#contact = sim.ncon > 0;
    }
    this.#t++;
    const q = sim.qpos;
    const dist = mazeDistance(q[0] as number, q[1] as number);
    const success = dist < mazeGeometry.goalThreshold;
    return {
      obs: this.#obs(),
      reward: -dist,
      violation: this.#contact,
      success,
      done: this.#contact || success || this.#t >= MAZE_HORIZON,
    };
  }

  /** C(s) of a tool centred at (x, y), by MuJoCo's collision detection (the episode is left as it was). */
  contactAt(x: number, y: number): boolean {
    const q = this.#sim.qpos;
    const [x0, y0] = [q[0] as number, q[1] as number];
    const c = this.#setPosition(x, y);
    this.#setPosition(x0, y0);
    return c;
  }

  get simulation(): MujocoSim {
    return this.#sim;
  }

  close(): void {
    this.#sim.close();
  }

  #place(mode: MazeMode, checkStart: boolean): void {
    const [x0, x1] = mazeGeometry.startX[mode];
    const [y0, y1] = mazeGeometry.startY;
    this.#sim.resetData();
    do {
      this.#contact = this.#setPosition(this.#rng.uniform(x0, x1), this.#rng.uniform(y0, y1));
    } while (checkStart && this.#contact);
    this.#t = 0;
  }

  #setPosition(x: number, y: number): boolean {
    const sim = this.#sim;
    sim.qpos[0] = x;
    sim.qpos[1] = y;
    sim.qvel.fill(0);
    sim.forward();
    return sim.ncon > 0;
  }

  #obs(): Float32Array {
    return toObs(this.#sim.qpos);
  }
}
