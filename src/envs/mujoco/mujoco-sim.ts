import type { MainModule, MjData, MjModel } from 'mujoco-js';
import { RShieldError } from '../../core/errors.js';
import type { MujocoRuntime } from './runtime.js';

/** A geom as a top-down renderer or an SVG needs it (world frame, metres). */
export interface GeomView {
  readonly name: string;
  readonly type: 'plane' | 'sphere' | 'capsule' | 'ellipsoid' | 'cylinder' | 'box' | 'other';
  /** MuJoCo's size triple (half-extents for a box; radius, half-length for a capsule or cylinder). */
  readonly size: readonly [number, number, number];
  readonly pos: readonly [number, number, number];
  /** Row-major 3×3 rotation, geom frame to world. */
  readonly mat: readonly number[];
  readonly rgba: readonly [number, number, number, number];
}

/** A robot simulated by MuJoCo: its simulation, for pictures, renderers and benchmarks (read, do not step). */
export interface MujocoBacked {
  readonly simulation: MujocoSim;
}

export function isMujocoBacked(env: object): env is MujocoBacked {
  return (env as Partial<MujocoBacked>).simulation instanceof MujocoSim;
}

const GEOM_TYPES: Readonly<Record<number, GeomView['type']>> = { 0: 'plane', 2: 'sphere', 3: 'capsule', 4: 'ellipsoid', 5: 'cylinder', 6: 'box' };

/** Deletes the WebAssembly objects of a simulation nobody closed (a backstop, not the contract). */
const leaked = new FinalizationRegistry<{ model: MjModel; data: MjData }>(({ model, data }) => {
  if (!data.isDeleted()) data.delete();
  if (!model.isDeleted()) model.delete();
});

/**
 * One MuJoCo model and its data in the WebAssembly heap: a fixed frame skip per env step,
 * positions and contacts read through typed-array views of the heap, and close() to give the
 * heap back. Views are re-taken when the heap grows (growing detaches the old ArrayBuffer).
 */
export class MujocoSim {
  readonly name: string;
  readonly frameSkip: number;
  /** The MJCF it was compiled from. */
  readonly xml: string;
  readonly #mj: MainModule;
  readonly #model: MjModel;
  readonly #data: MjData;
  #closed = false;
  #qpos!: Float64Array;
  #qvel!: Float64Array;
  #ctrl!: Float64Array;
  #xpos!: Float64Array;
  #xquat!: Float64Array;
  #xmat!: Float64Array;
  #geomXpos!: Float64Array;
  #geomXmat!: Float64Array;

  constructor(rt: MujocoRuntime, name: string, xml: string, frameSkip: number) {
    this.name = name;
    this.frameSkip = frameSkip;
    this.xml = xml;
    this.#mj = rt.mj;
    this.#model = rt.compile(name, xml);
    this.#data = new rt.mj.MjData(this.#model);
    leaked.register(this, { model: this.#model, data: this.#data }, this);
    this.#views();
  }

  get nq(): number {
    return this.#model.nq;
  }

  get nv(): number {
    return this.#model.nv;
  }

  get nu(): number {
    return this.#model.nu;
  }

  /** Simulated seconds per env step. */
  get dt(): number {
    return this.#model.opt.timestep * this.frameSkip;
  }

  get qpos(): Float64Array {
    this.#fresh();
    return this.#qpos;
  }

  get qvel(): Float64Array {
    this.#fresh();
    return this.#qvel;
  }

  get ctrl(): Float64Array {
    this.#fresh();
    return this.#ctrl;
  }

  /** Body positions, 3 per body (body 0 is the world). */
  get xpos(): Float64Array {
    this.#fresh();
    return this.#xpos;
  }

  /** Body orientations, 4 per body (w, x, y, z). */
  get xquat(): Float64Array {
    this.#fresh();
    return this.#xquat;
  }

  /** Body orientations, 9 per body (row-major rotation matrix). */
  get xmat(): Float64Array {
    this.#fresh();
    return this.#xmat;
  }

  /** World position of geom `g` after the last step or forward(). */
  geomPosition(g: number): [number, number, number] {
    this.#fresh();
    const p = this.#geomXpos;
    return [p[3 * g] as number, p[3 * g + 1] as number, p[3 * g + 2] as number];
  }

  /** A model array (geom_size, body_mass, actuator_gear ...) as a view; read it, or write it before reset. */
  modelArray(field: 'geom_size' | 'body_mass' | 'actuator_gear' | 'geom_pos' | 'geom_rgba' | 'actuator_ctrlrange'): Float64Array {
    this.#open();
    return this.#model[field] as Float64Array;
  }

  id(kind: 'body' | 'geom' | 'joint' | 'actuator' | 'site', name: string): number {
    const obj = this.#mj.mjtObj;
    const type = { body: obj.mjOBJ_BODY, geom: obj.mjOBJ_GEOM, joint: obj.mjOBJ_JOINT, actuator: obj.mjOBJ_ACTUATOR, site: obj.mjOBJ_SITE }[kind].value;
    const i = this.#mj.mj_name2id(this.#model, type, name);
    if (i < 0) throw new RShieldError('E_CONFIG', `${this.name}: the model has no ${kind} '${name}'`, { robot: this.name, kind, object: name });
    return i;
  }

  /** Index of a joint's first coordinate in qpos. */
  qposAddress(joint: string): number {
    return (this.#model.jnt_qposadr as Int32Array)[this.id('joint', joint)] as number;
  }

  /** Index of a joint's first degree of freedom in qvel. */
  dofAddress(joint: string): number {
    return (this.#model.jnt_dofadr as Int32Array)[this.id('joint', joint)] as number;
  }

  /** Back to the model's initial state (qpos0, zero velocity, zero controls); time 0. */
  resetData(): void {
    this.#open();
    this.#mj.mj_resetData(this.#model, this.#data);
  }

  /** Recomputes positions, contacts and forces for the current qpos/qvel without stepping. */
  forward(): void {
    this.#open();
    this.#mj.mj_forward(this.#model, this.#data);
  }

  /** Advances `frameSkip` physics steps (or `n`). */
  step(n = this.frameSkip): void {
    this.#open();
    for (let i = 0; i < n; i++) this.#mj.mj_step(this.#model, this.#data);
  }

  /** Number of active contacts after the last step or forward(). */
  get ncon(): number {
    return this.#data.ncon;
  }

  /**
   * Whether any active contact pairs a geom of `a` with a geom of `b` (null: any geom).
   * Reads MuJoCo's contact list once (it is copied out of the heap, so not per substep).
   */
  touching(a: ReadonlySet<number>, b: ReadonlySet<number> | null): boolean {
    this.#open();
    const n = this.#data.ncon;
    if (n === 0) return false;
    const list = this.#data.contact;
    try {
      for (let i = 0; i < n; i++) {
        const c = list.get(i);
        if (c === undefined) continue;
        const g1 = c.geom1;
        const g2 = c.geom2;
        c.delete();
        if ((a.has(g1) && (b === null || b.has(g2))) || (a.has(g2) && (b === null || b.has(g1)))) return true;
      }
      return false;
    } finally {
      list.delete();
    }
  }

  /** Every geom in the world frame after the last step or forward(): what a renderer draws. */
  geoms(): GeomView[] {
    this.#fresh();
    const m = this.#model;
    const type = m.geom_type as Int32Array;
    const size = m.geom_size as Float64Array;
    const rgba = m.geom_rgba as Float32Array;
    const out: GeomView[] = [];
    for (let g = 0; g < m.ngeom; g++) {
      const p = this.#geomXpos;
      out.push({
        name: this.#mj.mj_id2name(m, this.#mj.mjtObj.mjOBJ_GEOM.value, g) || `geom${g}`,
        type: GEOM_TYPES[type[g] as number] ?? 'other',
        size: [size[3 * g] as number, size[3 * g + 1] as number, size[3 * g + 2] as number],
        pos: [p[3 * g] as number, p[3 * g + 1] as number, p[3 * g + 2] as number],
        mat: Array.from(this.#geomXmat.subarray(9 * g, 9 * g + 9)),
        rgba: [rgba[4 * g] as number, rgba[4 * g + 1] as number, rgba[4 * g + 2] as number, rgba[4 * g + 3] as number],
      });
    }
    return out;
  }

  /** Gives the model and data back to the WebAssembly heap; any later call is an error. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    leaked.unregister(this);
    this.#data.delete();
    this.#model.delete();
  }

  /** Size of the whole WebAssembly heap in bytes (shared by every simulation of the process). */
  heapBytes(): number {
    this.#fresh();
    return this.#qpos.buffer.byteLength;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #open(): void {
    if (this.#closed) throw new RShieldError('E_USAGE', `${this.name}: the simulation was closed`, { robot: this.name });
  }

  #fresh(): void {
    this.#open();
    if (this.#qpos.buffer.byteLength === 0) this.#views();
  }

  #views(): void {
    const d = this.#data;
    this.#qpos = d.qpos as Float64Array;
    this.#qvel = d.qvel as Float64Array;
    this.#ctrl = d.ctrl as Float64Array;
    this.#xpos = d.xpos as Float64Array;
    this.#xquat = d.xquat as Float64Array;
    this.#xmat = d.xmat as Float64Array;
    this.#geomXpos = d.geom_xpos as Float64Array;
    this.#geomXmat = d.geom_xmat as Float64Array;
  }
}
