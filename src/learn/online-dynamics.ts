/**
 * The dynamics ensemble of a model-based start model, kept and retrained by the online trainer
 * (thesis §4; reference notes §3.2: 50 epochs on D_offline, then 5 epochs every K episodes on
 * all data so far). Each version the trainer exports carries a dynamics.onnx and the card's
 * `dynamics` and `planner` parts, so a shield that plans keeps planning after a hot-swap.
 *
 * A retrained ensemble ships only when its held-out MSE of s′ is no worse than the running one's
 * on the same rows (quality-gate.ts dynamicsDecision); otherwise the version keeps the running
 * ensemble, and training goes on from the retrained weights.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCard, ModelCardInput } from '../config/model-card.js';
import { RShieldError } from '../core/errors.js';
import { TransitionColumns, type TransitionColumnsView } from '../data/transition-columns.js';
import { DYNAMICS_ACT, DYNAMICS_FILE, DYNAMICS_LOGVAR, DYNAMICS_MEAN, DYNAMICS_OBS, DynamicsEnsemble, referenceDynamicsSizes, type DynamicsCardPart, type DynamicsNormalizer, type DynamicsSizes } from './dynamics-ensemble.js';
import { DEFAULT_DYNAMICS_TOLERANCE, dynamicsDecision, type DynamicsDecision } from './quality-gate.js';
import { readOnnxWeights } from './onnx-weights.js';

/** Epochs of each online retraining (reference 5). */
export const DEFAULT_ONLINE_DYNAMICS_EPOCHS = 5;
/** Epochs over D_offline when the start model's ensemble cannot be continued (reference 50). */
export const DEFAULT_OFFLINE_DYNAMICS_EPOCHS = 50;

export interface OnlineDynamicsOptions {
  /** Retrain every K completed online episodes (default: the robot's, defaults.ts dynamicsEveryFor). */
  readonly every: number;
  /** Epochs of each retraining (default 5). */
  readonly epochs?: number;
  /** Epochs over D_offline when the start weights cannot be read (default 50). */
  readonly offlineEpochs?: number;
  /** Allowed relative rise of the held-out MSE (default DEFAULT_DYNAMICS_TOLERANCE). */
  readonly tolerance?: number;
}

/** One retraining, for the trainer status and the card. */
export interface DynamicsRetrain {
  /** Completed online episodes when it ran. */
  readonly episodes: number;
  readonly rows: number;
  readonly epochs: number;
  readonly finalNll: number;
  readonly seconds: number;
}

/** What the trainer status shows of the dynamics (docs/mqtt.md). */
export interface OnlineDynamicsStats {
  readonly every: number;
  readonly epochs: number;
  /** 'start-model': the start card's dynamics.onnx weights; 'offline-data': a new ensemble on D_offline. */
  readonly initialisedFrom: 'start-model' | 'offline-data';
  readonly episodes: number;
  readonly retrains: number;
  /** Rows the next retraining trains on (D_offline's training split and the online training rows). */
  readonly rows: number;
  readonly lastRetrain: DynamicsRetrain | null;
  /** The last exported version's choice of ensemble. */
  readonly lastDecision: (DynamicsDecision & { readonly retrainedMse: number; readonly runningMse: number }) | null;
}

/** An ensemble as shipped: its bytes, the card part that describes them and, when known, how to continue it. */
interface Shipped {
  readonly onnx: Uint8Array;
  readonly part: DynamicsCardPart;
  readonly training: Record<string, unknown> | undefined;
}

/** The card parts and metrics a version's dynamics adds (online.ts exportModel). */
export interface DynamicsExport {
  readonly card: Pick<ModelCardInput, 'recoveryMode' | 'dynamics' | 'planner'>;
  readonly metrics: Record<string, unknown>;
  readonly training: Record<string, unknown> | undefined;
}

const r4 = (x: number): number | null => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);

/** The card's `training.dynamics` when it says how to rebuild the ensemble (sizes and normaliser). */
function continuable(training: unknown, ensemble: number): { sizes: DynamicsSizes; batch: number | undefined; normalizer: DynamicsNormalizer } | string {
  if (training === null || typeof training !== 'object') return 'the card has no training.dynamics';
  const t = training as Record<string, unknown>;
  const hidden = t['hidden'];
  if (!Array.isArray(hidden) || !hidden.every((h) => Number.isInteger(h) && (h as number) > 0)) return 'training.dynamics.hidden is not a list of widths';
  if (t['ensemble'] !== undefined && t['ensemble'] !== ensemble) return `training.dynamics.ensemble ${JSON.stringify(t['ensemble'])} differs from dynamics.ensemble ${ensemble}`;
  const n = t['normalizer'];
  if (n === null || typeof n !== 'object') return 'training.dynamics.normalizer is missing';
  const batch = t['batch'];
  return { sizes: { ensemble, hidden: hidden as number[] }, batch: Number.isInteger(batch) && (batch as number) > 0 ? (batch as number) : undefined, normalizer: n as DynamicsNormalizer };
}

export class OnlineDynamics {
  readonly every: number;
  readonly epochs: number;
  readonly initialisedFrom: OnlineDynamicsStats['initialisedFrom'];
  readonly #ens: DynamicsEnsemble;
  readonly #planner: NonNullable<ModelCard['planner']>;
  readonly #recoveryMode: ModelCard['recoveryMode'];
  readonly #tolerance: number;
  /** All training rows so far: D_offline's training split, then every online training row. */
  readonly #data: TransitionColumns;
  #episodes = 0;
  #retrainedAt = 0;
  #retrains = 0;
  #lastRetrain: DynamicsRetrain | null = null;
  #lastDecision: OnlineDynamicsStats['lastDecision'] = null;
  /** The ensemble the shields run (the start model's, then each released version's). */
  #running: Shipped;
  /** What the last export wrote (and after how many fits); becomes #running when that version is released. */
  #exported: { shipped: Shipped; fits: number } | undefined;
  /** Fits of the ensemble so far, and the count whose weights the running ensemble has. */
  #fits = 0;
  #runningFits = 0;

  private constructor(o: { ens: DynamicsEnsemble; card: ModelCard; running: Shipped; data: TransitionColumns; options: OnlineDynamicsOptions; from: OnlineDynamicsStats['initialisedFrom'] }) {
    this.#ens = o.ens;
    this.#planner = o.card.planner!;
    this.#recoveryMode = o.card.recoveryMode;
    this.#running = o.running;
    this.#data = o.data;
    this.every = o.options.every;
    this.epochs = o.options.epochs ?? DEFAULT_ONLINE_DYNAMICS_EPOCHS;
    this.#tolerance = o.options.tolerance ?? DEFAULT_DYNAMICS_TOLERANCE;
    this.initialisedFrom = o.from;
  }

  /**
   * The start card's ensemble continued from its dynamics.onnx weights when its card says how
   * (training.dynamics: hidden widths and normaliser, as `rshield train --recovery model-based`
   * writes), else a new ensemble trained on `offline` (D_offline's training split).
   */
  static async create(o: { card: ModelCard; modelDir: string; offline: TransitionColumnsView; seed: number; threads?: number; options: OnlineDynamicsOptions }): Promise<OnlineDynamics> {
    const { card, modelDir } = o;
    const dyn = card.dynamics;
    if (dyn === undefined || card.planner === undefined) throw new RShieldError('E_MODEL', `${modelDir}: the card has no dynamics and planner parts to continue`);
    for (const [k, v, min] of [['every', o.options.every, 1], ['epochs', o.options.epochs ?? 1, 1], ['offlineEpochs', o.options.offlineEpochs ?? 1, 1]] as const) {
      if (!Number.isInteger(v) || v < min) throw new RShieldError('E_USAGE', `dynamics ${k} must be an integer ≥ ${min}, got ${v}`, { option: k });
    }
    const path = join(modelDir, dyn.file);
    const bytes = await readFile(path).catch((err: Error) => {
      throw new RShieldError('E_MODEL', `cannot read ${path} (the card's dynamics.file): ${err.message}`, { path });
    });
    const training = card.training?.['dynamics'];
    const spec = continuable(training, dyn.ensemble);
    const threads = o.threads === undefined ? {} : { threads: o.threads };
    const data = TransitionColumns.growable(card.obsDim, card.actDim, Math.max(1024, o.offline.size));
    data.append(o.offline);
    const running: Shipped = { onnx: new Uint8Array(bytes), part: { ...dyn, file: DYNAMICS_FILE }, training: typeof spec === 'string' ? undefined : (training as Record<string, unknown>) };
    if (typeof spec !== 'string') {
      const ens = new DynamicsEnsemble({ obsDim: card.obsDim, actDim: card.actDim, sizes: spec.sizes, seed: o.seed, ...(spec.batch === undefined ? {} : { batch: spec.batch }), ...threads });
      ens.loadWeights(spec.normalizer, await readOnnxWeights(path));
      return new OnlineDynamics({ ens, card, running, data, options: o.options, from: 'start-model' });
    }
    // The start model's graph is not one this ensemble can continue: train one of the reference's
    // widths (the card's member count, which the planner's particles are a multiple of) on D_offline.
    const ens = new DynamicsEnsemble({ obsDim: card.obsDim, actDim: card.actDim, sizes: { ensemble: dyn.ensemble, hidden: referenceDynamicsSizes.hidden }, seed: o.seed, ...threads });
    if (data.size < ens.batch) {
      await ens.release();
      throw new RShieldError('E_MODEL', `${modelDir}: cannot continue the model's dynamics ensemble (${spec}) and there are ${data.size} offline transitions to train a new one on (at least ${ens.batch}: give --data)`, { path });
    }
    const self = new OnlineDynamics({ ens, card, running, data, options: o.options, from: 'offline-data' });
    await self.#fit(o.options.offlineEpochs ?? DEFAULT_OFFLINE_DYNAMICS_EPOCHS);
    return self;
  }

  /** One online training row (held-out rows are never trained on). */
  addRow(src: TransitionColumnsView, r: number): void {
    this.#data.pushRow(src, r);
  }

  /** An online episode ended. */
  episodeEnded(): void {
    this.#episodes++;
  }

  /** K episodes have ended since the last retraining. */
  get due(): boolean {
    return this.#episodes - this.#retrainedAt >= this.every && this.#data.size >= this.#ens.batch;
  }

  /** Retrains (`epochs` epochs on all rows so far) when due; true when it did. */
  async retrainIfDue(): Promise<boolean> {
    if (!this.due) return false;
    this.#retrainedAt = this.#episodes;
    await this.#fit(this.epochs);
    this.#retrains++;
    return true;
  }

  async #fit(epochs: number): Promise<void> {
    const t0 = performance.now();
    const n = this.#data.size;
    const fit = await this.#ens.fit(this.#data, Uint32Array.from({ length: n }, (_, i) => i), epochs);
    this.#lastRetrain = { episodes: this.#episodes, rows: n, epochs, finalNll: fit.epochs.at(-1)?.nll ?? Number.NaN, seconds: (performance.now() - t0) / 1000 };
    this.#fits++;
  }

  /**
   * Writes `dir/dynamics.onnx` for a version: the retrained ensemble, or the running one when the
   * retrained one is worse on `heldOut` (all its rows), and returns the card parts and metrics.
   */
  async export(dir: string, heldOut: TransitionColumnsView): Promise<DynamicsExport> {
    const rows = Uint32Array.from({ length: heldOut.size }, (_, i) => i);
    // A start model's graph with other tensor names cannot be scored here: NaN ships the retrained one.
    const running = await this.#ens.evaluate(heldOut, rows, this.#running.onnx).catch(() => ({ mse: Number.NaN, stillMse: Number.NaN, nll: Number.NaN }));
    let shipped = this.#running;
    let score = running;
    if (this.#fits !== this.#runningFits) {
      const retrained = await this.#ens.evaluate(heldOut, rows);
      const decision = dynamicsDecision(retrained.mse, running.mse, this.#tolerance);
      this.#lastDecision = { ...decision, retrainedMse: retrained.mse, runningMse: running.mse };
      if (decision.ship === 'retrained') {
        const e = this.#ens;
        shipped = {
          onnx: e.exportOnnx(),
          part: { file: DYNAMICS_FILE, inputs: { obs: DYNAMICS_OBS, act: DYNAMICS_ACT }, outputs: { mean: DYNAMICS_MEAN, logvar: DYNAMICS_LOGVAR }, ensemble: e.sizes.ensemble },
          training: { ensemble: e.sizes.ensemble, hidden: [...e.sizes.hidden], batch: e.batch, normalizer: e.normalizer, onlineEpochs: this.epochs, every: this.every, retrains: this.#retrains },
        };
        score = retrained;
      }
    }
    await writeFile(join(dir, DYNAMICS_FILE), shipped.onnx);
    this.#exported = { shipped, fits: shipped === this.#running ? this.#runningFits : this.#fits };
    return {
      card: { recoveryMode: this.#recoveryMode, dynamics: shipped.part, planner: this.#planner },
      metrics: {
        heldOutMse: r4(score.mse), heldOutStillMse: r4(score.stillMse), heldOutNll: r4(score.nll), heldOutRows: heldOut.size,
        shipped: shipped === this.#running ? 'running' : 'retrained', retrains: this.#retrains,
        ...(this.#lastDecision === null ? {} : { note: this.#lastDecision.note }),
      },
      training: shipped.training,
    };
  }

  /** The last exported version was released: its ensemble is the one the shields run now. */
  acceptExported(): void {
    if (this.#exported === undefined) return;
    this.#running = this.#exported.shipped;
    this.#runningFits = this.#exported.fits;
    this.#exported = undefined;
  }

  get stats(): OnlineDynamicsStats {
    return { every: this.every, epochs: this.epochs, initialisedFrom: this.initialisedFrom, episodes: this.#episodes, retrains: this.#retrains, rows: this.#data.size, lastRetrain: this.#lastRetrain, lastDecision: this.#lastDecision };
  }

  release(): Promise<void> {
    return this.#ens.release();
  }
}
