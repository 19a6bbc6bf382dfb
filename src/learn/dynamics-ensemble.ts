/**
 * The PETS dynamics ensemble of model-based recovery (thesis §4; reference notes §3.2): E
 * networks (obs ⊕ act) → 200 → 200 → 200 → 2·obs with swish, each predicting the mean and
 * log-variance of Δs = s′ − s, trained with the Gaussian NLL on its own bootstrap of D_offline.
 * All members run as one batched MatMul per layer (weights [E, in, out]), in training and in the
 * exported `dynamics.onnx` alike.
 *
 * Exported graph: inputs `obs` [E, N, S], `act` [E, N, A] (member e reads row block e, so the
 * planner's TS-∞ particles stay with their member); outputs `mean` [E, N, S] (s + E[Δs]) and
 * `logvar` [E, N, S] (log Var[s′], soft-clamped between the learned bounds).
 */
import ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { TransitionColumnsView } from '../data/index.js';
import { adam, exportInference, GraphBuilder, inferenceGraph, ParamSet, TrainingProgram, type Tensor } from '../nn/index.js';

export const DYNAMICS_FILE = 'dynamics.onnx';
export const DYNAMICS_OBS = 'obs';
export const DYNAMICS_ACT = 'act';
export const DYNAMICS_MEAN = 'mean';
export const DYNAMICS_LOGVAR = 'logvar';

export interface DynamicsSizes {
  /** Ensemble members (reference 5). */
  readonly ensemble: number;
  /** Hidden widths (reference 3 × 200). */
  readonly hidden: readonly number[];
}

export const referenceDynamicsSizes: DynamicsSizes = { ensemble: 5, hidden: [200, 200, 200] };

/** PETS L2 decay per layer (reference: 0.00025, 0.0005, 0.0005, 0.00075 for layers 0..3). */
const WEIGHT_DECAY = [0.00025, 0.0005, 0.0005, 0.00075];

/** Input and target scaling, baked into the exported graph. */
export interface DynamicsNormalizer {
  readonly inMean: number[];
  readonly inStd: number[];
  readonly deltaMean: number[];
  readonly deltaStd: number[];
}

export interface DynamicsOptions {
  readonly obsDim: number;
  readonly actDim: number;
  readonly sizes?: DynamicsSizes;
  /** Minibatch per member (reference 32). */
  readonly batch?: number;
  /** Adam learning rate (reference 1e-3). */
  readonly lr?: number;
  readonly seed: number;
  readonly threads?: number;
}

export interface DynamicsEpoch {
  readonly epoch: number;
  /** Mean training NLL per dimension over the epoch (normalised Δ units). */
  readonly nll: number;
}

export interface DynamicsFit {
  readonly epochs: DynamicsEpoch[];
  readonly normalizer: DynamicsNormalizer;
}

/** Held-out accuracy in the robot's units. */
export interface DynamicsEval {
  /** Mean squared error of the ensemble-mean prediction of s′, per dimension. */
  readonly mse: number;
  /** The same for "s′ = s": how much the model explains beyond standing still. */
  readonly stillMse: number;
  /** Gaussian NLL per dimension of s′ under member 0's prediction (nats). */
  readonly nll: number;
}

function meanStd(rows: number, dim: number, at: (i: number, j: number) => number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(dim).fill(0);
  const sq = new Array<number>(dim).fill(0);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dim; j++) {
      const v = at(i, j);
      mean[j]! += v;
      sq[j]! += v * v;
    }
  }
  const n = Math.max(1, rows);
  const m = mean.map((s) => s / n);
  // Reference: σ < 1e-12 → 1 (a constant input is left as it is).
  const std = sq.map((s, j) => {
    const sd = Math.sqrt(Math.max(0, s / n - m[j]! ** 2));
    return sd < 1e-12 ? 1 : sd;
  });
  return { mean: m, std };
}

/** Scaling of (obs ⊕ act) and Δs over the rows `rows` of `data`. */
export function dynamicsNormalizer(data: TransitionColumnsView, rows: Uint32Array): DynamicsNormalizer {
  const S = data.obsDim;
  const A = data.actDim;
  const inp = meanStd(rows.length, S + A, (i, j) => (j < S ? data.obs[rows[i]! * S + j]! : data.act[rows[i]! * A + j - S]!));
  const d = meanStd(rows.length, S, (i, j) => data.nextObs[rows[i]! * S + j]! - data.obs[rows[i]! * S + j]!);
  return { inMean: inp.mean, inStd: inp.std, deltaMean: d.mean, deltaStd: d.std };
}

const swish = (g: GraphBuilder, x: Tensor): Tensor => g.mul(x, g.sigmoid(x));

/**
 * The ensemble on x [E, B, S+A] (raw units): normalised-Δ mean and soft-clamped log-variance,
 * each [E, B, S]. logvar = max − softplus(max − raw), then min + softplus(logvar − min) (PETS).
 */
function ensemble(g: GraphBuilder, p: ParamSet, x: Tensor, n: DynamicsNormalizer, sizes: DynamicsSizes, S: number): { mean: Tensor; logvar: Tensor; weights: Tensor[]; maxLv: Tensor; minLv: Tensor } {
  const E = sizes.ensemble;
  const inDim = n.inMean.length;
  let h = g.div(g.sub(x, g.const(n.inMean, [inDim])), g.const(n.inStd, [inDim]));
  const widths = [...sizes.hidden, 2 * S];
  const weights: Tensor[] = [];
  let fanIn = inDim;
  widths.forEach((w, i) => {
    const l = p.scope(`l${i}`);
    const W = g.use(l.get('w', [E, fanIn, w], { kind: 'truncnormal', std: 1 / (2 * Math.sqrt(fanIn)) }));
    const b = g.use(l.get('b', [E, 1, w], { kind: 'const', value: 0 }));
    weights.push(W);
    h = g.add(g.matmul(h, W), b);
    if (i < widths.length - 1) h = swish(g, h);
    fanIn = w;
  });
  const [mean, raw] = g.split(h, [S, S], 2) as [Tensor, Tensor];
  const maxLv = g.use(p.get('max_logvar', [1, 1, S], { kind: 'const', value: 0.5 }));
  const minLv = g.use(p.get('min_logvar', [1, 1, S], { kind: 'const', value: -10 }));
  const upper = g.sub(maxLv, g.softplus(g.sub(maxLv, raw)));
  const logvar = g.add(minLv, g.softplus(g.sub(upper, minLv)));
  return { mean, logvar, weights, maxLv, minLv };
}

export class DynamicsEnsemble {
  readonly obsDim: number;
  readonly actDim: number;
  readonly sizes: DynamicsSizes;
  readonly batch: number;
  readonly #opts: DynamicsOptions;
  readonly #params: ParamSet;
  #normalizer: DynamicsNormalizer | null = null;
  #program: TrainingProgram | null = null;
  readonly #rng: Rng;

  constructor(opts: DynamicsOptions) {
    this.#opts = opts;
    this.obsDim = opts.obsDim;
    this.actDim = opts.actDim;
    this.sizes = opts.sizes ?? referenceDynamicsSizes;
    this.batch = opts.batch ?? 32;
    if (!(Number.isInteger(this.sizes.ensemble) && this.sizes.ensemble >= 1)) throw new RShieldError('E_CONFIG', `ensemble must be an integer ≥ 1, got ${this.sizes.ensemble}`);
    this.#rng = new Rng(opts.seed);
    this.#params = ParamSet.create({ rng: this.#rng.fork() });
  }

  get normalizer(): DynamicsNormalizer {
    if (this.#normalizer === null) throw new RShieldError('E_USAGE', 'the dynamics ensemble is not trained yet');
    return this.#normalizer;
  }

  /**
   * Starts from trained weights: those of an exported dynamics.onnx (its initializers, named after
   * the parameters; src/learn/onnx-weights.ts) with the normaliser it was trained with (the card's
   * `training.dynamics.normalizer`; it is baked into the graph, not recoverable from it). Before
   * the first fit only; that fit keeps this normaliser.
   */
  loadWeights(normalizer: DynamicsNormalizer, weights: ReadonlyMap<string, ArrayLike<number>>): void {
    if (this.#program !== null) throw new RShieldError('E_USAGE', 'loadWeights() after the ensemble started training');
    const S = this.obsDim;
    const A = this.actDim;
    const lengths: [string, number[], number][] = [['inMean', normalizer.inMean, S + A], ['inStd', normalizer.inStd, S + A], ['deltaMean', normalizer.deltaMean, S], ['deltaStd', normalizer.deltaStd, S]];
    for (const [k, v, n] of lengths) {
      if (!Array.isArray(v) || v.length !== n || !v.every(Number.isFinite)) throw new RShieldError('E_MODEL', `dynamics normalizer.${k} must hold ${n} finite numbers (obsDim ${S}, actDim ${A}), got ${Array.isArray(v) ? v.length : typeof v}`, { field: k });
    }
    // Building the graph once creates every parameter with its shape.
    const g = inferenceGraph('dynamics_shapes');
    ensemble(g, this.#params, g.input('x', [this.sizes.ensemble, 1, S + A]), normalizer, this.sizes, S);
    for (const p of this.#params.list()) {
      const v = weights.get(p.name);
      if (v === undefined) throw new RShieldError('E_MODEL', `dynamics weights lack parameter ${p.name} (ensemble ${this.sizes.ensemble}, hidden ${this.sizes.hidden.join('×')})`, { param: p.name });
      if (v.length !== p.size) throw new RShieldError('E_MODEL', `dynamics parameter ${p.name} has ${v.length} values, the ensemble (${this.sizes.ensemble} × hidden ${this.sizes.hidden.join('×')}) expects ${p.size}`, { param: p.name });
      p.value.set(v);
    }
    this.#normalizer = normalizer;
  }

  /** One Adam step on x [E, B, S+A], y = Δs [E, B, S]; outputs the loss and the NLL per dimension. */
  async #compile(n: DynamicsNormalizer): Promise<TrainingProgram> {
    const { obsDim: S, actDim: A, batch: B } = this;
    const E = this.sizes.ensemble;
    const g = new GraphBuilder('dynamics_step');
    const x = g.input('x', [E, B, S + A]);
    const y = g.input('y', [E, B, S]);
    const yn = g.div(g.sub(y, g.const(n.deltaMean, [S])), g.const(n.deltaStd, [S]));
    const f = ensemble(g, this.#params, x, n, this.sizes, S);
    // Σ_nets mean[(μ − y)²·e^{−logvar} + logvar] (reference §3.2): E × the mean over all members.
    const perDim = g.add(g.mul(g.square(g.sub(f.mean, yn)), g.exp(g.neg(f.logvar))), f.logvar);
    let loss = g.mul(g.mean(perDim), E);
    loss = g.add(loss, g.mul(g.sub(g.reduceSum(f.maxLv), g.reduceSum(f.minLv)), 0.01));
    f.weights.forEach((W, i) => {
      loss = g.add(loss, g.mul(g.reduceSum(g.square(W)), (WEIGHT_DECAY[Math.min(i, WEIGHT_DECAY.length - 1)] as number) / 2));
    });
    g.output('loss', loss);
    g.output('nll', g.mul(g.add(g.mean(perDim), Math.log(2 * Math.PI)), 0.5));
    adam(g, this.#params, g.gradients(loss, this.#params.trainable()), { lr: this.#opts.lr ?? 1e-3, name: 'dynamics_adam' });
    return TrainingProgram.compile(g, { threads: this.#opts.threads ?? 2, rng: this.#rng.fork() });
  }

  /**
   * Trains on `rows` of `data` for `epochs` epochs, each member on its own bootstrap (N rows
   * drawn with replacement, reshuffled every epoch). The normaliser is fixed by the first call.
   */
  async fit(data: TransitionColumnsView, rows: Uint32Array, epochs: number, onEpoch?: (e: DynamicsEpoch) => void): Promise<DynamicsFit> {
    const { obsDim: S, actDim: A, batch: B } = this;
    const E = this.sizes.ensemble;
    if (data.obsDim !== S || data.actDim !== A) throw new RShieldError('E_DATA', `data has obsDim ${data.obsDim}, actDim ${data.actDim}; the ensemble is for ${S}, ${A}`);
    if (rows.length < B) throw new RShieldError('E_DATA', `${rows.length} transitions are fewer than one batch of ${B} for the dynamics ensemble`);
    this.#normalizer ??= dynamicsNormalizer(data, rows);
    this.#program ??= await this.#compile(this.#normalizer);
    const program = this.#program;
    const N = rows.length;
    const boot = Array.from({ length: E }, () => Uint32Array.from({ length: N }, () => rows[this.#rng.int(N)]!));
    const x = new Float32Array(E * B * (S + A));
    const y = new Float32Array(E * B * S);
    const out: DynamicsEpoch[] = [];
    const batches = Math.floor(N / B);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (const b of boot) shuffle(b, this.#rng);
      let nll = 0;
      for (let k = 0; k < batches; k++) {
        for (let e = 0; e < E; e++) {
          const idx = boot[e]!;
          for (let i = 0; i < B; i++) {
            const r = idx[k * B + i]!;
            const xo = (e * B + i) * (S + A);
            const yo = (e * B + i) * S;
            for (let j = 0; j < S; j++) {
              const s = data.obs[r * S + j]!;
              x[xo + j] = s;
              y[yo + j] = data.nextObs[r * S + j]! - s;
            }
            for (let j = 0; j < A; j++) x[xo + S + j] = data.act[r * A + j]!;
          }
        }
        const res = await program.step({ x, y });
        nll += res.nll ?? Number.NaN;
      }
      const ep = { epoch, nll: nll / batches };
      out.push(ep);
      onEpoch?.(ep);
    }
    return { epochs: out, normalizer: this.#normalizer };
  }

  /** dynamics.onnx (see the file comment). */
  exportOnnx(): Uint8Array {
    const { obsDim: S, actDim: A } = this;
    const E = this.sizes.ensemble;
    const n = this.normalizer;
    const g = inferenceGraph('dynamics');
    const obs = g.input(DYNAMICS_OBS, [E, 'N', S]);
    const act = g.input(DYNAMICS_ACT, [E, 'N', A]);
    const f = ensemble(g, this.#params, g.concat([obs, act], 2), n, this.sizes, S);
    // Back to the robot's units: s′ = s + μ·σ_Δ + m_Δ, log Var[s′] = logvar + 2 log σ_Δ.
    g.output(DYNAMICS_MEAN, g.add(obs, g.add(g.mul(f.mean, g.const(n.deltaStd, [S])), g.const(n.deltaMean, [S]))));
    g.output(DYNAMICS_LOGVAR, g.add(f.logvar, g.const(n.deltaStd.map((s) => 2 * Math.log(s)), [S])));
    return exportInference(g, { description: `rshield PETS dynamics ensemble (${E} members, Δs, mean and log-variance)` }).onnx;
  }

  /**
   * Held-out accuracy of the exported graph on `rows` of `data`; `onnx` scores an earlier export
   * of an ensemble of the same sizes instead (the online trainer's running version).
   */
  async evaluate(data: TransitionColumnsView, rows: Uint32Array, onnx?: Uint8Array): Promise<DynamicsEval> {
    const { obsDim: S, actDim: A } = this;
    const E = this.sizes.ensemble;
    const N = rows.length;
    if (N === 0) return { mse: Number.NaN, stillMse: Number.NaN, nll: Number.NaN };
    const obs = new Float32Array(E * N * S);
    const act = new Float32Array(E * N * A);
    for (let e = 0; e < E; e++) {
      rows.forEach((r, i) => {
        obs.set(data.obs.subarray(r * S, r * S + S), (e * N + i) * S);
        act.set(data.act.subarray(r * A, r * A + A), (e * N + i) * A);
      });
    }
    const session = await ort.InferenceSession.create(onnx ?? this.exportOnnx(), { intraOpNumThreads: this.#opts.threads ?? 2 });
    try {
      const out = await session.run({ [DYNAMICS_OBS]: new ort.Tensor('float32', obs, [E, N, S]), [DYNAMICS_ACT]: new ort.Tensor('float32', act, [E, N, A]) });
      const mean = out[DYNAMICS_MEAN]!.data as Float32Array;
      const logvar = out[DYNAMICS_LOGVAR]!.data as Float32Array;
      let se = 0;
      let still = 0;
      let nll = 0;
      rows.forEach((r, i) => {
        for (let j = 0; j < S; j++) {
          const target = data.nextObs[r * S + j]!;
          let m = 0;
          for (let e = 0; e < E; e++) m += mean[(e * N + i) * S + j]!;
          se += (m / E - target) ** 2;
          still += (data.obs[r * S + j]! - target) ** 2;
          const lv = logvar[i * S + j]!;
          nll += 0.5 * ((mean[i * S + j]! - target) ** 2 * Math.exp(-lv) + lv + Math.log(2 * Math.PI));
        }
      });
      return { mse: se / (N * S), stillMse: still / (N * S), nll: nll / (N * S) };
    } finally {
      await session.release();
    }
  }

  async release(): Promise<void> {
    await this.#program?.release();
    this.#program = null;
  }
}

/** What the card says about dynamics.onnx (src/config/model-card.ts `dynamics`). */
export interface DynamicsCardPart {
  readonly file: string;
  readonly inputs: { readonly obs: string; readonly act: string };
  readonly outputs: { readonly mean: string; readonly logvar: string };
  readonly ensemble: number;
}

function shuffle(a: Uint32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
