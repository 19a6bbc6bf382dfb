/**
 * A compiled graph held by an onnxruntime-node session: a training step (or any graph) run with
 * one `session.run`. Parameters and optimizer state live in typed arrays between runs; each
 * updated value has two buffers that swap roles every step (ORT writes the new value into
 * the preallocated output buffer, which then becomes the next input), so a step copies and
 * allocates no parameter memory.
 */
import ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { GraphBuilder, GraphInput } from './graph.js';
import type { FloatArray, Param } from './params.js';
import { nextName, serialize } from './serialize.js';
import { isStatic, sizeOf, fmt } from './shape.js';

export interface CompileOptions {
  /** Intra-op threads (default 1). */
  threads?: number;
  /** Seed or generator for noise inputs (default seed 0). */
  rng?: Rng | number;
  /**
   * Whether idle intra-op threads spin-wait for the next node (ORT
   * `session.intra_op.allow_spinning`; only matters with threads > 1). Default false, unlike
   * ORT: on a loaded 2-core machine spinning doubled the 2-thread step time (6.3 vs 3.2 ms in
   * bench/trainer) and burns cores that the shield's tick needs; on an idle 16-core machine it
   * saved ~13% (docs/nn.md). Turn it on for training on a dedicated machine.
   */
  spin?: boolean;
}

/** A value the program updates: a parameter (its buffer lives in `param.value`) or program-owned state. */
interface Slot {
  readonly name: string;
  readonly param: Param | undefined;
  readonly dims: readonly number[];
  current: FloatArray;
  spare: FloatArray;
}

/**
 * A flat input (`GraphBuilder.flat`): its parameters' values are subarrays of one buffer,
 * `views` for `current` and `spareViews` for `spare`; the two swap together after a step.
 */
interface FlatSlot {
  readonly name: string;
  readonly params: readonly Param[];
  readonly dims: readonly number[];
  readonly updated: boolean;
  current: FloatArray;
  spare: FloatArray;
  views: FloatArray[];
  spareViews: FloatArray[];
}

export class TrainingProgram {
  /** The serialized ONNX model (for inspection or saving). */
  readonly onnx: Uint8Array;
  private readonly tensors = new WeakMap<FloatArray, ort.Tensor>();
  private readonly feeds: Record<string, ort.Tensor> = {};
  private readonly fetches: Record<string, ort.Tensor> = {};
  private readonly result: Record<string, number> = {};
  private readonly outArrays = new Map<string, FloatArray>();
  private readonly slots: Slot[] = [];
  private readonly flats: FlatSlot[] = [];
  private readonly readParams: Param[] = [];
  private readonly noise: { name: string; buf: FloatArray }[] = [];
  private readonly data: { name: string; size: number; dims: readonly number[] }[] = [];
  private readonly rng: Rng;
  private readonly f64: boolean;

  private constructor(
    private readonly session: ort.InferenceSession,
    g: GraphBuilder,
    onnxBytes: Uint8Array,
    opts: CompileOptions,
  ) {
    this.onnx = onnxBytes;
    this.f64 = g.dtype === 'float64';
    this.rng = opts.rng instanceof Rng ? opts.rng : new Rng(opts.rng ?? 0);
    const alloc = (n: number): FloatArray => (this.f64 ? new Float64Array(n) : new Float32Array(n));
    for (const inp of g.inputs.values()) this.prepareInput(g, inp, alloc);
    for (const [name, t] of g.outputs) {
      if (!isStatic(t.shape)) throw new RShieldError('E_GRAPH', `output ${name} has a symbolic shape ${fmt(t.shape)}; training programs need static shapes`);
      const buf = alloc(sizeOf(t.shape));
      this.outArrays.set(name, buf);
      this.fetches[name] = this.tensorOf(buf, t.shape);
      this.result[name] = 0;
    }
  }

  /** Serializes `g` and opens it in ONNX Runtime (CPU, all graph optimisations). */
  static async compile(g: GraphBuilder, opts: CompileOptions = {}): Promise<TrainingProgram> {
    const bytes = serialize(g);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: opts.threads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: opts.spin === true ? '1' : '0' } } },
      });
    } catch (err) {
      throw new RShieldError('E_GRAPH', `ONNX Runtime rejected graph ${g.name}: ${(err as Error).message}`, { graph: g.name }, { cause: err });
    }
    return new TrainingProgram(session, g, bytes, opts);
  }

  /**
   * Runs the graph once: feeds data inputs by name, draws noise, applies every state update.
   * Returns the first element of each declared output (the reused object is overwritten by the
   * next step); `output(name)` gives whole arrays.
   */
  async step(inputs: Readonly<Record<string, FloatArray>> = {}): Promise<Readonly<Record<string, number>>> {
    for (const d of this.data) {
      const arr = inputs[d.name];
      if (arr === undefined) throw new RShieldError('E_BAD_INPUT', `input ${d.name} is missing`, { input: d.name });
      if (arr.length !== d.size) {
        throw new RShieldError('E_BAD_INPUT', `input ${d.name} has ${arr.length} values, graph expects ${d.size} ([${d.dims.join(',')}])`, {
          input: d.name,
        });
      }
      this.feeds[d.name] = this.tensorOf(arr, d.dims);
    }
    for (const n of this.noise) this.rng.fillNormal(n.buf);
    for (const f of this.flats) {
      syncFlat(f);
      this.feeds[f.name] = this.tensorOf(f.current, f.dims);
      if (f.updated) this.fetches[nextName(f.name)] = this.tensorOf(f.spare, f.dims);
    }
    // After syncFlat: a flat member's value is a view of its flat buffer, fed without a copy.
    for (const p of this.readParams) this.feeds[p.name] = this.tensorOf(p.value, p.shape);
    for (const s of this.slots) {
      // Another program may have replaced a shared parameter's buffer.
      if (s.param !== undefined && s.param.value !== s.current) {
        if (s.param.value === s.spare) s.spare = s.current;
        s.current = s.param.value;
      }
      this.feeds[s.name] = this.tensorOf(s.current, s.dims);
      this.fetches[nextName(s.name)] = this.tensorOf(s.spare, s.dims);
    }
    await this.session.run(this.feeds, this.fetches);
    for (const s of this.slots) {
      const t = s.current;
      s.current = s.spare;
      s.spare = t;
      if (s.param !== undefined) s.param.value = s.current;
    }
    for (const f of this.flats) {
      if (!f.updated) continue;
      [f.current, f.spare] = [f.spare, f.current];
      [f.views, f.spareViews] = [f.spareViews, f.views];
      f.params.forEach((p, i) => (p.value = f.views[i]!));
    }
    for (const [name, buf] of this.outArrays) this.result[name] = buf[0]!;
    return this.result;
  }

  /** The whole array of output `name` after the last step (overwritten by the next). */
  output(name: string): FloatArray {
    const a = this.outArrays.get(name);
    if (a === undefined) throw new RShieldError('E_USAGE', `graph has no output ${name}`, { output: name });
    return a;
  }

  /**
   * Copies of program-owned state (optimizer moments, step counters) and of updated parameters
   * (flat inputs such as `adam.params` whole), for checkpoints.
   */
  state(): Record<string, FloatArray> {
    const out: Record<string, FloatArray> = {};
    for (const s of this.slots) out[s.name] = s.current.slice();
    for (const f of this.flats) {
      syncFlat(f);
      out[f.name] = f.current.slice();
    }
    return out;
  }

  /** Restores values saved by `state()`; every slot must be present with its size. */
  load(state: Readonly<Record<string, ArrayLike<number>>>): void {
    for (const s of this.slots) {
      const v = state[s.name];
      if (v === undefined) throw new RShieldError('E_MODEL', `checkpoint lacks ${s.name}`, { name: s.name });
      if (v.length !== s.current.length) {
        throw new RShieldError('E_MODEL', `${s.name} has ${v.length} values in the checkpoint, program expects ${s.current.length}`, { name: s.name });
      }
      if (s.param !== undefined) s.current = s.param.value;
      s.current.set(v);
    }
    for (const f of this.flats) {
      const v = state[f.name];
      if (v === undefined) continue; // not saved: the params keep their values (ParamSet.load)
      if (v.length !== f.current.length) {
        throw new RShieldError('E_MODEL', `${f.name} has ${v.length} values in the checkpoint, program expects ${f.current.length}`, { name: f.name });
      }
      f.current.set(v);
      f.params.forEach((p, i) => (p.value = f.views[i]!));
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private prepareInput(g: GraphBuilder, inp: GraphInput, alloc: (n: number) => FloatArray): void {
    const t = inp.tensor;
    if (!isStatic(t.shape)) throw new RShieldError('E_GRAPH', `input ${t.name} has a symbolic shape ${fmt(t.shape)}; training programs need static shapes`);
    const size = sizeOf(t.shape);
    const updated = g.updates.has(t.name);
    switch (inp.kind) {
      case 'data':
        this.data.push({ name: t.name, size, dims: t.shape });
        return;
      case 'noise': {
        const buf = alloc(size);
        this.noise.push({ name: t.name, buf });
        this.feeds[t.name] = this.tensorOf(buf, t.shape);
        return;
      }
      case 'param': {
        const p = inp.param!;
        if ((p.value instanceof Float64Array) !== this.f64) {
          throw new RShieldError('E_GRAPH', `param ${p.name} is ${this.f64 ? 'float32' : 'float64'}, graph ${g.name} is ${g.dtype}`);
        }
        if (updated) this.slots.push({ name: t.name, param: p, dims: t.shape, current: p.value, spare: alloc(size) });
        else this.readParams.push(p);
        return;
      }
      case 'flat': {
        const ps = inp.params!;
        for (const p of ps) {
          if ((p.value instanceof Float64Array) !== this.f64) {
            throw new RShieldError('E_GRAPH', `param ${p.name} is ${this.f64 ? 'float32' : 'float64'}, graph ${g.name} is ${g.dtype}`);
          }
        }
        const current = alloc(size);
        const spare = alloc(size);
        const f: FlatSlot = { name: t.name, params: ps, dims: t.shape, updated, current, spare, views: viewsOf(current, ps), spareViews: viewsOf(spare, ps) };
        syncFlat(f); // the program owns the values from now on; param.value is a view
        this.flats.push(f);
        return;
      }
      case 'state': {
        const buf = alloc(size).fill(inp.init ?? 0);
        if (updated) this.slots.push({ name: t.name, param: undefined, dims: t.shape, current: buf, spare: alloc(size) });
        else this.feeds[t.name] = this.tensorOf(buf, t.shape);
        return;
      }
    }
  }

  /** One ort.Tensor per buffer, created on first use: steady-state steps allocate none. */
  private tensorOf(buf: FloatArray, dims: readonly number[]): ort.Tensor {
    let t = this.tensors.get(buf);
    if (t === undefined) {
      t = buf instanceof Float64Array ? new ort.Tensor('float64', buf, dims) : new ort.Tensor('float32', buf, dims);
      this.tensors.set(buf, t);
    }
    return t;
  }

}

/** Subarrays of `buf` for `params` laid out back to back. */
function viewsOf(buf: FloatArray, params: readonly Param[]): FloatArray[] {
  let at = 0;
  return params.map((p) => {
    const v = buf.subarray(at, at + p.size);
    at += p.size;
    return v;
  });
}

/**
 * Brings into the flat buffer any parameter whose value lives elsewhere (set by another
 * program sharing the ParamSet, or before compile) and points the parameter back at its view.
 */
function syncFlat(f: FlatSlot): void {
  for (let i = 0; i < f.params.length; i++) {
    const p = f.params[i]!;
    const view = f.views[i]!;
    if (p.value === view) continue;
    view.set(p.value);
    p.value = view;
  }
}
