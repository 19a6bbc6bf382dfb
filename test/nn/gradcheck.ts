// Finite-difference gradient checks run through ONNX Runtime: the analytic gradient comes from
// g.gradients in the same graph; the numeric one from central differences of the scalar output.
import ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { GraphBuilder, serialize, type Tensor } from '../../src/nn/index.js';

export interface CheckOptions {
  dtype?: 'float32' | 'float64';
  /** Elements perturbed per input (sampled; all when the input is smaller). */
  samples?: number;
  h?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
  /** Fixed values for some inputs; the others are uniform in [−1, 1]. */
  values?: Record<string, ArrayLike<number>>;
  /** Inputs that are not differentiated (e.g. an integer-like mask). */
  constant?: readonly string[];
}

export interface CheckResult {
  /** Largest |numeric − analytic| / (atol + rtol·|analytic|); ≤ 1 passes. */
  worst: number;
  where: string;
  checked: number;
}

/** Builds `build(g)` (it declares its own inputs), makes the output a scalar with fixed random weights, and compares gradients. */
export async function gradCheck(build: (g: GraphBuilder) => Tensor, opts: CheckOptions = {}): Promise<CheckResult> {
  const dtype = opts.dtype ?? 'float64';
  const f64 = dtype === 'float64';
  const h = opts.h ?? (f64 ? 1e-6 : 1e-2);
  const atol = opts.atol ?? (f64 ? 1e-7 : 2e-3);
  const rtol = opts.rtol ?? (f64 ? 1e-5 : 2e-2);
  const rng = new Rng(opts.seed ?? 42);
  const g = new GraphBuilder('gradcheck', { dtype });
  let y = build(g);
  // A weighted sum makes the upstream gradient non-uniform, so transposed/broadcast mistakes show.
  if (y.rank > 0) {
    const n = (y.shape as number[]).reduce((a, b) => a * b, 1);
    y = g.reduceSum(g.mul(y, g.const(Array.from({ length: n }, () => rng.uniform(0.5, 1.5)), y.shape as number[])));
  }
  g.output('__y', y);
  const vars = [...g.inputs.values()].filter((i) => !(opts.constant ?? []).includes(i.tensor.name));
  const grads = g.gradients(y, vars.map((v) => v.tensor));
  grads.forEach((d, i) => g.output(`__d${i}`, d));
  const session = await ort.InferenceSession.create(serialize(g), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const type = f64 ? 'float64' : 'float32';
  const arrays = new Map<string, Float64Array | Float32Array>();
  const feeds: Record<string, ort.Tensor> = {};
  for (const inp of g.inputs.values()) {
    const dims = inp.tensor.shape as number[];
    const n = dims.reduce((a, b) => a * b, 1);
    const arr = f64 ? new Float64Array(n) : new Float32Array(n);
    const fixed = opts.values?.[inp.tensor.name];
    if (fixed !== undefined) arr.set(Array.from(fixed));
    else if (inp.param !== undefined) arr.set(Array.from(inp.param.value));
    else for (let i = 0; i < n; i++) arr[i] = rng.uniform(-1, 1);
    arrays.set(inp.tensor.name, arr);
    feeds[inp.tensor.name] = new ort.Tensor(type, arr, dims);
  }
  const base = await session.run(feeds);
  const fAt = async (): Promise<number> => Number((await session.run(feeds, ['__y'])).__y!.data[0]);
  let worst = 0;
  let where = '';
  let checked = 0;
  for (let k = 0; k < vars.length; k++) {
    const name = vars[k]!.tensor.name;
    const arr = arrays.get(name)!;
    const analytic = base[`__d${k}`]!.data as Float64Array | Float32Array;
    const count = Math.min(arr.length, opts.samples ?? 6);
    const picks = arr.length <= count ? Array.from({ length: arr.length }, (_, i) => i) : Array.from({ length: count }, () => rng.int(arr.length));
    for (const i of picks) {
      const x0 = arr[i]!;
      arr[i] = x0 + h;
      const fp = await fAt();
      arr[i] = x0 - h;
      const fm = await fAt();
      arr[i] = x0;
      const numeric = (fp - fm) / (2 * h);
      const a = analytic[i]!;
      const err = Math.abs(numeric - a) / (atol + rtol * Math.abs(a));
      checked++;
      if (err > worst || Number.isNaN(err)) {
        worst = Number.isNaN(err) ? Infinity : err;
        where = `${name}[${i}]: numeric ${numeric}, analytic ${a}`;
      }
    }
  }
  await session.release();
  return { worst, where, checked };
}
