/**
 * Named parameters with their values. A ParamSet outlives graphs: the same set feeds the
 * training graph (as inputs that the step updates) and the exported inference graph (as
 * initializers), so layer code is written once and called for both.
 */
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

/** How a parameter is initialised. Fans are those of the layer (thesis-independent, Glorot & Bengio 2010; He et al. 2015). */
export type Init =
  | { kind: 'xavier'; fanIn: number; fanOut: number }
  | { kind: 'he'; fanIn: number }
  | { kind: 'truncnormal'; std: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'const'; value: number };

export class Param {
  /** Current value. The training program swaps buffers after each step: read it, don't keep it. */
  value: FloatArray;
  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    value: FloatArray,
    readonly trainable: boolean,
  ) {
    this.value = value;
  }

  get size(): number {
    return this.value.length;
  }
}

export interface ParamSetOptions {
  /** Seed or generator for initial values (default seed 0). */
  rng?: Rng | number;
  dtype?: DType;
}

interface Store {
  readonly params: Map<string, Param>;
  readonly rng: Rng;
  readonly dtype: DType;
  readonly trainable: boolean;
}

export class ParamSet {
  private constructor(
    private readonly store: Store,
    /** Name prefix of this view ('' at the root). */
    readonly prefix: string,
  ) {}

  static create(opts: ParamSetOptions = {}): ParamSet {
    const rng = opts.rng instanceof Rng ? opts.rng : new Rng(opts.rng ?? 0);
    return new ParamSet({ params: new Map(), rng, dtype: opts.dtype ?? 'float32', trainable: true }, '');
  }

  get dtype(): DType {
    return this.store.dtype;
  }

  /** A view whose names are prefixed with `name/`; it shares storage with this set. */
  scope(name: string): ParamSet {
    return new ParamSet(this.store, this.full(name));
  }

  /** The parameter `name` of this scope, created with `init` on first use; its shape must match later uses. */
  get(name: string, shape: readonly number[], init: Init): Param {
    const full = this.full(name);
    const existing = this.store.params.get(full);
    if (existing !== undefined) {
      if (existing.shape.length !== shape.length || existing.shape.some((d, i) => d !== shape[i])) {
        throw new RShieldError('E_GRAPH', `param ${full} has shape [${existing.shape.join(',')}], layer asks for [${shape.join(',')}]`, {
          param: full,
        });
      }
      return existing;
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const value = this.store.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    fillInit(value, init, this.store.rng);
    const p = new Param(full, [...shape], value, this.store.trainable);
    this.store.params.set(full, p);
    return p;
  }

  /** Parameters under this scope, in creation order. */
  list(): Param[] {
    const out: Param[] = [];
    const pre = this.prefix === '' ? '' : `${this.prefix}/`;
    for (const [name, p] of this.store.params) if (pre === '' || name.startsWith(pre)) out.push(p);
    return out;
  }

  trainable(): Param[] {
    return this.list().filter((p) => p.trainable);
  }

  /** Name of `p` relative to this scope. */
  relative(p: Param): string {
    return this.prefix === '' ? p.name : p.name.slice(this.prefix.length + 1);
  }

  /** Total number of values. */
  count(): number {
    return this.list().reduce((n, p) => n + p.size, 0);
  }

  /**
   * A separate, non-trainable copy of every parameter of this scope (a target network), named
   * `prefix/<relative name>`; layer code called on `copy.scope(x)` finds the copied values.
   */
  copy(prefix = 'target'): ParamSet {
    const store: Store = { params: new Map(), rng: this.store.rng, dtype: this.store.dtype, trainable: false };
    for (const p of this.list()) {
      const name = `${prefix}/${this.relative(p)}`;
      store.params.set(name, new Param(name, p.shape, p.value.slice(), false));
    }
    return new ParamSet(store, prefix);
  }

  /** Copies of all values, keyed by full name (for checkpoints). */
  snapshot(): Record<string, FloatArray> {
    const out: Record<string, FloatArray> = {};
    for (const p of this.list()) out[p.name] = p.value.slice();
    return out;
  }

  /** Loads values saved by `snapshot`; every parameter of this scope must be present with its size. */
  load(values: Readonly<Record<string, ArrayLike<number>>>): void {
    for (const p of this.list()) {
      const v = values[p.name];
      if (v === undefined) throw new RShieldError('E_MODEL', `checkpoint lacks param ${p.name}`, { param: p.name });
      if (v.length !== p.size) {
        throw new RShieldError('E_MODEL', `param ${p.name} has ${v.length} values in the checkpoint, model expects ${p.size}`, {
          param: p.name,
        });
      }
      p.value.set(v);
    }
  }

  private full(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}/${name}`;
  }
}

export function fillInit(out: FloatArray, init: Init, rng: Rng): void {
  switch (init.kind) {
    case 'xavier': {
      const a = Math.sqrt(6 / (init.fanIn + init.fanOut));
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-a, a);
      return;
    }
    case 'he': {
      const std = Math.sqrt(2 / init.fanIn);
      for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
      return;
    }
    case 'truncnormal':
      // Redraw beyond two standard deviations (the usual truncated-normal initialiser).
      for (let i = 0; i < out.length; i++) {
        let z = rng.normal();
        while (Math.abs(z) > 2) z = rng.normal();
        out[i] = init.std * z;
      }
      return;
    case 'uniform':
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-init.bound, init.bound);
      return;
    case 'const':
      out.fill(init.value);
      return;
  }
}
