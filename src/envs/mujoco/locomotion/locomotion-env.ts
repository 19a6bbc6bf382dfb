import { Rng } from '../../../core/rng.js';
import type { Env, EnvSpec, StepResult } from '../../../core/types.js';
import { readAction } from '../../action.js';
import { OptionReader, type EnvOptions } from '../../options.js';
import { MujocoSim, type MujocoBacked } from '../mujoco-sim.js';
import { mujocoRuntime } from '../runtime.js';
import { ANT_LEG_ACTUATORS, HEAD_RADIUS, TORSO_RADIUS, antMjcf, halfCheetahMjcf } from './locomotion-mjcf.js';

export const LOCOMOTION_HORIZON = 1000;

/**
 * MESA's task families (§6.3): which part is disabled for the meta-training tasks and which for
 * the test task. HalfCheetah: the joint whose action is masked to 0; Ant: the leg whose two
 * actuators are masked and whose geoms are halved.
 */
export const halfCheetahTasks = { option: 'disabledJoint', train: [1, 2, 3, 4], test: 5 } as const;
export const antTasks = { option: 'disabledLeg', train: [0, 1, 2], test: 3 } as const;

interface LocomotionKind {
  readonly name: 'halfcheetah-disabled' | 'ant-disabled';
  readonly obsNames: readonly string[];
  readonly actDim: number;
  readonly frameSkip: number;
  readonly ctrlCost: number;
  readonly aliveBonus: number;
  /** The geom whose contact with the floor is C(s) (its centre is the profile's point), and the body whose x-velocity is the reward. */
  readonly fragileGeom: string;
  readonly fragileBody: string;
  readonly fragileRadius: number;
  readonly xml: () => string;
}

const cheetah: LocomotionKind = {
  name: 'halfcheetah-disabled',
  obsNames: [
    ...['rootz', 'rooty', 'bthigh', 'bshin', 'bfoot', 'fthigh', 'fshin', 'ffoot'].map((j) => `qpos.${j}`),
    ...['rootx', 'rootz', 'rooty', 'bthigh', 'bshin', 'bfoot', 'fthigh', 'fshin', 'ffoot'].map((j) => `qvel.${j}`),
    'torso.y',
    'torso.z',
  ],
  actDim: 6,
  frameSkip: 1,
  ctrlCost: 0.05,
  aliveBonus: 0,
  fragileGeom: 'head',
  fragileBody: 'torso',
  fragileRadius: HEAD_RADIUS,
  xml: halfCheetahMjcf,
};

const ant: LocomotionKind = {
  name: 'ant-disabled',
  obsNames: [
    ...Array.from({ length: 15 }, (_, i) => `qpos${i}`),
    ...Array.from({ length: 14 }, (_, i) => `qvel${i}`),
    ...Array.from({ length: 9 }, (_, i) => `torso.xmat${i}`),
    'com.x',
    'com.y',
    'com.z',
    'com.vx',
    'catastrophe',
  ],
  actDim: 8,
  frameSkip: 5,
  ctrlCost: 0.005,
  aliveBonus: 0.05,
  fragileGeom: 'torso_geom',
  fragileBody: 'torso',
  fragileRadius: TORSO_RADIUS,
  xml: antMjcf,
};

/**
 * HalfCheetah-Disabled and Ant-Disabled (MESA §6.3) on MuJoCo. The action (∈ [-1, 1]) is
 * clipped and multiplied by the task's mask, so a disabled joint or leg gets no torque;
 * reward = forward velocity of the centre of mass − c·‖a‖² (+ 0.05 for the ant); C(s): the
 * cheetah's head (the ant's torso) touches the floor — a flip. Reset: qpos0 + 0.01·N,
 * qvel + 0.1·N. Horizon 1000.
 */
export class LocomotionEnv implements Env, MujocoBacked {
  readonly spec: EnvSpec;
  /** The disabled joint (cheetah) or leg (ant). */
  readonly disabled: number;
  readonly #kind: LocomotionKind;
  readonly #sim: MujocoSim;
  readonly #mask: Float64Array;
  readonly #act: Float64Array;
  readonly #fragileId: number;
  readonly #fragile: ReadonlySet<number>;
  readonly #floor: ReadonlySet<number>;
  readonly #body: number;
  readonly #qpos0: Float64Array;
  #rng: Rng;
  #t = 0;

  constructor(kind: LocomotionKind, opts: EnvOptions) {
    const tasks = kind === cheetah ? halfCheetahTasks : antTasks;
    const r = new OptionReader(kind.name, opts, [tasks.option]);
    this.#kind = kind;
    this.#rng = new Rng(r.seed());
    const limit = kind === cheetah ? 5 : 3;
    this.disabled = r.integer(tasks.option, tasks.test, [0, limit]);
    this.spec = {
      name: kind.name,
      obsDim: kind.obsNames.length,
      actDim: kind.actDim,
      actLow: new Float32Array(kind.actDim).fill(-1),
      actHigh: new Float32Array(kind.actDim).fill(1),
      horizon: LOCOMOTION_HORIZON,
      units: 'rad, m',
      obsNames: kind.obsNames,
    };
    const sim = new MujocoSim(mujocoRuntime(kind.name), kind.name, kind.xml(), kind.frameSkip);
    this.#sim = sim;
    this.#act = new Float64Array(kind.actDim);
    this.#mask = new Float64Array(kind.actDim).fill(1);
    if (kind === cheetah) {
      this.#mask[this.disabled] = 0;
    } else {
      for (const a of ANT_LEG_ACTUATORS[this.disabled]!) this.#mask[a] = 0;
      // A disabled leg is also a smaller one: its geoms at half size, as the reference.
      const size = sim.modelArray('geom_size');
      for (const part of ['aux', 'thigh', 'shin']) {
        const g = sim.id('geom', `leg${this.disabled}_${part}`);
        for (let i = 0; i < 3; i++) size[3 * g + i] = (size[3 * g + i] as number) / 2;
      }
    }
    this.#fragileId = sim.id('geom', kind.fragileGeom);
    this.#fragile = new Set([this.#fragileId]);
    this.#floor = new Set([sim.id('geom', 'floor')]);
    this.#body = sim.id('body', kind.fragileBody);
    sim.resetData();
    this.#qpos0 = Float64Array.from(sim.qpos);
    this.#place();
    this.#rng = new Rng(r.seed());
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.#rng = new Rng(seed);
    this.#place();
    return this.#obs(false);
  }

  /**
   * Starts an episode from a tipped pose, for D_offline's probes of the constraint: the body
   * pitched by `tilt` rad (the ant: about a random horizontal axis), raised by `lift` m and
   * spinning at `spin` rad/s about the same axis; the rest as reset().
   */
  resetTipped(tilt: number, lift: number, spin: number): Float32Array {
    this.#place();
    const sim = this.#sim;
    const q = sim.qpos;
    const v = sim.qvel;
    if (this.#kind === cheetah) {
      q[1] = (q[1] as number) + lift;
      q[2] = (q[2] as number) + tilt;
      v[2] = spin;
    } else {
      const phi = this.#rng.uniform(0, 2 * Math.PI);
      const [ax, ay] = [Math.cos(phi), Math.sin(phi)];
      q[2] = (q[2] as number) + lift;
      q.set([Math.cos(tilt / 2), ax * Math.sin(tilt / 2), ay * Math.sin(tilt / 2), 0], 3);
      v[3] = ax * spin;
      v[4] = ay * spin;
    }
    sim.forward();
    return this.#obs(false);
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.#act);
    const sim = this.#sim;
    const ctrl = sim.ctrl;
    let sq = 0;
    for (let i = 0; i < this.#act.length; i++) {
      const a = (this.#act[i] as number) * (this.#mask[i] as number);
      ctrl[i] = a;
      sq += a * a;
    }
    const x0 = this.#comX();
    sim.step();
    this.#t++;
    const vx = (this.#comX() - x0) / sim.dt;
    const violation = sim.touching(this.#fragile, this.#floor);
    return {
      obs: this.#obs(violation, vx),
      reward: vx - this.#kind.ctrlCost * sq + this.#kind.aliveBonus,
      violation,
      success: false,
      done: violation || this.#t >= LOCOMOTION_HORIZON,
    };
  }

  /** World position of the fragile geom's centre (the head, the torso): the profile's point. */
  fragilePoint(): [number, number, number] {
    return this.#sim.geomPosition(this.#fragileId);
  }

  /** Sets the generalized position (velocities zero) and reports C(s) there; the episode is left as it was. */
  violatedAt(qpos: ArrayLike<number>): boolean {
    const sim = this.#sim;
    const saved = Float64Array.from(sim.qpos);
    const savedV = Float64Array.from(sim.qvel);
    sim.qpos.set(Array.from(qpos));
    sim.qvel.fill(0);
    sim.forward();
    const c = sim.touching(this.#fragile, this.#floor);
    this.#lastPoint = this.fragilePoint();
    sim.qpos.set(saved);
    sim.qvel.set(savedV);
    sim.forward();
    return c;
  }

  /** The fragile geom's centre at the last violatedAt() state. */
  #lastPoint: [number, number, number] = [0, 0, 0];
  get lastPoint(): readonly [number, number, number] {
    return this.#lastPoint;
  }

  get nq(): number {
    return this.#sim.nq;
  }

  get simulation(): MujocoSim {
    return this.#sim;
  }

  close(): void {
    this.#sim.close();
  }

  #comX(): number {
    return this.#sim.xpos[3 * this.#body] as number;
  }

  #place(): void {
    const sim = this.#sim;
    sim.resetData();
    const q = sim.qpos;
    for (let i = 0; i < q.length; i++) q[i] = (this.#qpos0[i] as number) + 0.01 * this.#rng.normal();
    if (this.#kind === ant) normalizeQuat(q, 3);
    const v = sim.qvel;
    for (let i = 0; i < v.length; i++) v[i] = 0.1 * this.#rng.normal();
    sim.forward();
    this.#t = 0;
  }

  #obs(catastrophe: boolean, vx = 0): Float32Array {
    const sim = this.#sim;
    const q = sim.qpos;
    const v = sim.qvel;
    const b = this.#body;
    const p = sim.xpos;
    if (this.#kind === cheetah) {
      const out = new Float32Array(19);
      out.set(q.subarray(1), 0);
      out.set(v, 8);
      out[17] = p[3 * b + 1] as number;
      out[18] = p[3 * b + 2] as number;
      return out;
    }
    const out = new Float32Array(43);
    out.set(q, 0);
    out.set(v, 15);
    out.set(sim.xmat.subarray(9 * b, 9 * b + 9), 29);
    out.set([p[3 * b] as number, p[3 * b + 1] as number, p[3 * b + 2] as number, vx, catastrophe ? 1 : 0], 38);
    return out;
  }
}

function normalizeQuat(q: Float64Array, at: number): void {
  const n = Math.hypot(q[at] as number, q[at + 1] as number, q[at + 2] as number, q[at + 3] as number);
  for (let i = 0; i < 4; i++) q[at + i] = (q[at + i] as number) / n;
}

export const createHalfCheetah = (opts: EnvOptions = {}): LocomotionEnv => new LocomotionEnv(cheetah, opts);
export const createAnt = (opts: EnvOptions = {}): LocomotionEnv => new LocomotionEnv(ant, opts);
