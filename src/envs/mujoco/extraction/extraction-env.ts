import { Rng } from '../../../core/rng.js';
import type { Env, EnvSpec, StepResult } from '../../../core/types.js';
import { readAction } from '../../action.js';
import { OptionReader, type EnvOptions } from '../../options.js';
import { MujocoSim, type MujocoBacked } from '../mujoco-sim.js';
import { mujocoRuntime } from '../runtime.js';
import { BLOCK_HALF, BLOCK_SPACING, EXTRACTION_FRAME_SKIP, FINGER_TRAVEL, GRIPPER_JOINTS, extractionMjcf } from './extraction-mjcf.js';

export const EXTRACTION_HORIZON = 25;
/** Topple: an object's |roll| or |pitch| above 15° (reference §1.5). */
export const TOPPLE_ANGLE = (15 * Math.PI) / 180;
/** Success: the red block lifted 0.03 m (reference: z − 0.072 ≥ 0.03 in its frame). */
export const LIFT_HEIGHT = 0.03;
/** Palm height that puts the fingertips 7 cm down the block's sides, just above its top. */
export const GRASP_Z = BLOCK_HALF[2] * 2 + 0.015;
/** Where the target may go (world, m): over the shelf, never into the floor. */
export const TARGET_BOUNDS = { x: [-0.4, 0.4], y: [-0.4, 0.4], z: [0.15, 0.45] } as const;
const START_Z = 0.34;

export interface ExtractionVariant {
  readonly name: 'object-extraction' | 'object-extraction-dynamic';
  readonly distractor: boolean;
  /** Per-axis bound of dx, dy, dz (m per step): 0.02, or 0.03 with the distractor (§1.6). */
  readonly maxMove: number;
  /** Row position y ~ U(lo, hi): (-0.2, -0.05), or (-0.15, -0.07) with the distractor. */
  readonly rowY: readonly [number, number];
}

export const extraction: ExtractionVariant = { name: 'object-extraction', distractor: false, maxMove: 0.02, rowY: [-0.2, -0.05] };
export const extractionDynamic: ExtractionVariant = { name: 'object-extraction-dynamic', distractor: true, maxMove: 0.03, rowY: [-0.15, -0.07] };

/** The distractor's schedule (§1.6): +0.03 m in x per step for 15 steps, then still; fingers 0.6 closed. */
const DISTRACTOR_STEPS = 15;
const DISTRACTOR_MOVE = 0.03;
const DISTRACTOR_START_DX = -0.3;
const DISTRACTOR_Z = 0.4;

/**
 * Object Extraction (reference §1.5) and its dynamic-obstacle variant (§1.6) on MuJoCo. The
 * observation is qpos: the gripper's 6 joints (x, y, z, yaw, finger1, finger2), the three
 * blocks' positions and quaternions (3 × 7), and in the dynamic variant the distractor's 6
 * joints. The action moves the gripper's target by (dx, dy, dz) and sets the fingers
 * (a[3] ∈ [-0.1, 0.1]: open to closed); the target moves linearly over the step's substeps.
 * C(s): a block tilts more than 15° (and, with the distractor, anything touches it).
 * Reward −1 until the red (middle) block is 0.03 m up, then 0; success ends the episode.
 */
export class ExtractionEnv implements Env, MujocoBacked {
  readonly spec: EnvSpec;
  readonly variant: ExtractionVariant;
  readonly #sim: MujocoSim;
  readonly #act = new Float64Array(4);
  readonly #target = new Float64Array(4);
  readonly #prevCtrl: Float64Array;
  readonly #blockAdr: number[];
  readonly #distractorGeoms: ReadonlySet<number>;
  #rng: Rng;
  #redZ0 = 0;
  #t = 0;

  constructor(variant: ExtractionVariant, opts: EnvOptions = {}) {
    const r = new OptionReader(variant.name, opts, []);
    this.variant = variant;
    this.#rng = new Rng(r.seed());
    const m = variant.maxMove;
    const names = [...GRIPPER_JOINTS, ...[0, 1, 2].flatMap((i) => ['x', 'y', 'z', 'qw', 'qx', 'qy', 'qz'].map((c) => `block${i}.${c}`))];
    this.spec = {
      name: variant.name,
      obsDim: names.length + (variant.distractor ? GRIPPER_JOINTS.length : 0),
      actDim: 4,
      actLow: Float32Array.from([-m, -m, -m, -0.1]),
      actHigh: Float32Array.from([m, m, m, 0.1]),
      horizon: EXTRACTION_HORIZON,
      units: 'm',
      obsNames: [...names, ...(variant.distractor ? GRIPPER_JOINTS.map((j) => `distractor.${j}`) : [])],
    };
    this.#sim = new MujocoSim(mujocoRuntime(variant.name), variant.name, extractionMjcf({ distractor: variant.distractor }), EXTRACTION_FRAME_SKIP);
    this.#prevCtrl = new Float64Array(this.#sim.nu);
    this.#blockAdr = [0, 1, 2].map((i) => this.#sim.qposAddress(`block${i}`));
    this.#distractorGeoms = new Set(variant.distractor ? ['d_palm', 'd_finger1', 'd_finger2'].map((g) => this.#sim.id('geom', g)) : []);
    this.#place();
    this.#rng = new Rng(r.seed());
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.#rng = new Rng(seed);
    this.#place();
    return this.#obs();
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.#act);
    const sim = this.#sim;
    const tg = this.#target;
    const b = TARGET_BOUNDS;
    tg[0] = clamp((tg[0] as number) + (this.#act[0] as number), b.x[0], b.x[1]);
    tg[1] = clamp((tg[1] as number) + (this.#act[1] as number), b.y[0], b.y[1]);
    tg[2] = clamp((tg[2] as number) + (this.#act[2] as number), b.z[0], b.z[1]);
    tg[3] = (FINGER_TRAVEL * ((this.#act[3] as number) + 0.1)) / 0.2;
    const ctrl = sim.ctrl;
    this.#prevCtrl.set(ctrl);
    const goal = this.#ctrlGoal();
    // The target moves linearly over the step, as the reference interpolates its control.
    const n = sim.frameSkip;
    for (let k = 1; k <= n; k++) {
      const f = k / n;
      for (let i = 0; i < goal.length; i++) ctrl[i] = (this.#prevCtrl[i] as number) + f * ((goal[i] as number) - (this.#prevCtrl[i] as number));
      sim.step(1);
    }
    this.#t++;
    const violation = this.violated();
    const lifted = (sim.qpos[(this.#blockAdr[1] as number) + 2] as number) - this.#redZ0 >= LIFT_HEIGHT;
    const reward = lifted ? 0 : -1;
    return { obs: this.#obs(), reward, violation, success: lifted, done: violation || lifted || this.#t >= EXTRACTION_HORIZON };
  }

  /** C(s) of the current state: a toppled block, or (dynamic) a contact with the distractor. */
  violated(): boolean {
    const q = this.#sim.qpos;
    for (const adr of this.#blockAdr) {
      if (toppled(q[adr + 3] as number, q[adr + 4] as number, q[adr + 5] as number, q[adr + 6] as number)) return true;
    }
    return this.#distractorGeoms.size > 0 && this.#sim.touching(this.#distractorGeoms, null);
  }

  get simulation(): MujocoSim {
    return this.#sim;
  }

  close(): void {
    this.#sim.close();
  }

  /** Actuator targets for the current gripper target (and the distractor's schedule). */
  #ctrlGoal(): Float64Array {
    const g = new Float64Array(this.#sim.nu);
    const tg = this.#target;
    g.set([tg[0] as number, tg[1] as number, tg[2] as number, 0, tg[3] as number, tg[3] as number]);
    if (this.variant.distractor) {
      const d = this.#prevCtrl;
      const moved = this.#t < DISTRACTOR_STEPS ? DISTRACTOR_MOVE : 0;
      g.set([(d[6] as number) + moved, d[7] as number, d[8] as number, 0, 0.6 * FINGER_TRAVEL, 0.6 * FINGER_TRAVEL], 6);
    }
    return g;
  }

  #place(): void {
    const sim = this.#sim;
    const rng = this.#rng;
    sim.resetData();
    const rowX = 0.05 * rng.normal();
    const rowY = rng.uniform(this.variant.rowY[0], this.variant.rowY[1]);
    const q = sim.qpos;
    for (let i = 0; i < 3; i++) {
      const adr = this.#blockAdr[i] as number;
      q.set([rowX + (i - 1) * BLOCK_SPACING, rowY, BLOCK_HALF[2], 1, 0, 0, 0], adr);
    }
    // The gripper starts above the row, open, a few cm off the red block in x and y.
    const start = [rowX + rng.uniform(-0.1, 0.1), rowY + rng.uniform(0.05, 0.12), START_Z];
    q.set([...start, 0, 0, 0], 0);
    this.#target.set([...start, 0]);
    const ctrl = sim.ctrl;
    ctrl.set([...start, 0, 0, 0], 0);
    if (this.variant.distractor) {
      const d = [rowX + DISTRACTOR_START_DX, rowY, DISTRACTOR_Z, 0, 0, 0];
      q.set(d, this.#blockAdr[2]! + 7);
      ctrl.set(d, 6);
    }
    sim.forward();
    this.#redZ0 = q[(this.#blockAdr[1] as number) + 2] as number;
    this.#t = 0;
  }

  #obs(): Float32Array {
    return Float32Array.from(this.#sim.qpos);
  }
}

/** |roll| or |pitch| of the quaternion (w, x, y, z) above TOPPLE_ANGLE, or not a number (§1.5). */
export function toppled(w: number, x: number, y: number, z: number): boolean {
  const roll = Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  const pitch = Math.asin(clamp(2 * (w * y - z * x), -1, 1));
  if (!Number.isFinite(roll) || !Number.isFinite(pitch)) return true;
  return Math.abs(roll) > TOPPLE_ANGLE || Math.abs(pitch) > TOPPLE_ANGLE;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
