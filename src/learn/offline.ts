/**
 * Offline pretraining of the safety critic and the recovery policy on D_offline (thesis
 * Algorithm 1, lines 1–3; reference `pretrain_critic_recovery`), with a held-out AUROC.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/index.js';
import type { ModelCardInput } from '../config/model-card.js';
import type { PlannerSettingsInput } from '../config/planner-settings.js';
import { DYNAMICS_FILE, DynamicsEnsemble, type DynamicsCardPart, type DynamicsSizes, type DynamicsEpoch } from './dynamics-ensemble.js';
import { auroc } from './auroc.js';
import { BatchSampler } from './batch-sampler.js';
import { normalizerFromData, type Normalizer } from './normalizer.js';
import { SafetyLearner, CRITIC_FILE } from './safety-learner.js';
import { heldOutRows, splitByEpisode } from './validation.js';
import type { TrainDefaults } from './defaults.js';
import { defaultSizes, type NetworkSizes } from './networks.js';

export interface OfflineTrainOptions extends TrainDefaults {
  readonly robot: string;
  readonly seed: number;
  readonly outDir: string;
  readonly threads?: number;
  /** Network widths (default 2×256, the reference's). */
  readonly sizes?: NetworkSizes;
  /** Where a′ of the TD target comes from, for the card (default 'logged'). */
  readonly nextAction?: string;
  /** Share of episodes held out for validation (default 0.1). */
  readonly validationShare?: number;
  /**
   * Start from trained networks instead of fresh ones (MESA phase 2, `rshield adapt`): their
   * weights, the normaliser they were trained with (baked into the graphs) and where they came from.
   */
  readonly init?: OfflineInit;
  /** Plain SGD on the critic with these per-tensor learning rates instead of Adam (SafetyLearnerOptions.criticSgdLrs). */
  readonly criticSgdLrs?: Readonly<Record<string, number>>;
  /** Called every few steps with the step count and the latest losses. */
  readonly onProgress?: (step: number, criticLoss: number, recoveryLoss: number) => void;
  /**
   * 'model-based' also trains the dynamics ensemble (dynamics.onnx) and writes a card with
   * `recoveryMode: 'model-based'` and these planner settings (thesis §4; reference §3.2).
   */
  readonly modelBased?: {
    readonly planner: PlannerSettingsInput;
    /** Epochs over D_offline (reference 50). */
    readonly epochs: number;
    readonly sizes?: DynamicsSizes;
    /** Minibatch per member (reference 32). */
    readonly batch?: number;
    readonly onEpoch?: (e: DynamicsEpoch) => void;
  };
}

export interface OfflineInit {
  readonly critic: ReadonlyMap<string, ArrayLike<number>>;
  readonly policy: ReadonlyMap<string, ArrayLike<number>>;
  readonly normalizer: Normalizer;
  /** The model version the weights are from (written into the card). */
  readonly from: string;
}

export interface OfflineTrainResult {
  readonly card: ModelCardInput;
  readonly seconds: number;
  readonly auroc: number;
}

/** What every trained card starts with: robot, version, time, ε_risk, the zero fail-safe (hold), no hysteresis. */
export function cardHead(robot: string, version: string, epsRisk: number, actDim: number): Pick<ModelCardInput, 'robot' | 'version' | 'createdAt' | 'epsRisk' | 'failsafe' | 'hysteresis'> {
  return { robot, version, createdAt: new Date().toISOString(), epsRisk, failsafe: new Array<number>(actDim).fill(0), hysteresis: 0 };
}

/** The card's `data` entries: each file's name, SHA-256 and transitions read. */
export function dataEntries(files: readonly { path: string; transitions: number }[]): Promise<{ file: string; sha256: string; transitions: number }[]> {
  return Promise.all(files.map(async (f) => ({ file: basename(f.path), sha256: await sha256File(f.path), transitions: f.transitions })));
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The card's metrics of an offline run: held-out AUROC and its counts, the last losses. */
export function offlineMetrics(score: number, horizon: number, validation: number, positives: number, train: number, last: { criticLoss: number; recoveryLoss: number }): Record<string, number | null> {
  return {
    auroc: Number.isNaN(score) ? null : Number(score.toFixed(4)),
    aurocHorizon: horizon,
    validationTransitions: validation,
    validationPositives: positives,
    trainTransitions: train,
    finalCriticLoss: Number(last.criticLoss.toPrecision(4)),
    finalRecoveryLoss: Number(last.recoveryLoss.toPrecision(4)),
  };
}

export async function trainOffline(data: Dataset, opts: OfflineTrainOptions): Promise<OfflineTrainResult> {
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const meta = data.meta;
  const split = splitByEpisode(data.episode, opts.validationShare ?? 0.1, rng.fork());
  const normalizer = opts.init?.normalizer ?? normalizerFromData(data, meta.actLow, meta.actHigh);
  const learner = await SafetyLearner.create({
    obsDim: data.obsDim,
    actDim: data.actDim,
    actLow: meta.actLow,
    actHigh: meta.actHigh,
    normalizer,
    gammaRisk: opts.gammaRisk,
    batch: Math.min(opts.batch, Math.max(1, split.train.length)),
    lr: opts.lr,
    tau: opts.tau,
    seed: rng.nextUint32(),
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.sizes === undefined ? {} : { sizes: opts.sizes }),
    ...(opts.criticSgdLrs === undefined ? {} : { criticSgdLrs: opts.criticSgdLrs }),
  });
  if (opts.init !== undefined) learner.loadWeights(opts.init.critic, opts.init.policy);
  try {
    const sampler = new BatchSampler(learner.opts.batch, opts.violationShare, data.obsDim, data.actDim);
    const batchRng = rng.fork();
    let last = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };
    for (let step = 1; step <= opts.steps; step++) {
      last = await learner.update(sampler.sample(data, batchRng, split.train));
      if (opts.onProgress !== undefined && (step % 50 === 0 || step === opts.steps)) opts.onProgress(step, last.criticLoss, last.recoveryLoss);
    }

    // Held-out AUROC of Q_risk(s, a) at predicting a violation within the next k steps.
    const v = split.validation;
    const { obs: vObs, act: vAct, labels, positives } = heldOutRows(data, v, opts.aurocHorizon);
    const scores = v.length > 0 ? await learner.scoreCritic(vObs, vAct) : new Float32Array(0);
    const score = auroc(scores, labels);

    const data_ = await dataEntries(data.files);
    const onnx = learner.exportOnnx();
    const mb = opts.modelBased === undefined ? null : await trainDynamics(data, split, opts.modelBased, rng.nextUint32(), opts);
    const hash = createHash('sha256').update(onnx.critic).update(onnx.recovery);
    if (mb !== null) hash.update(mb.onnx);
    const version = `${opts.robot}-${hash.digest('hex').slice(0, 12)}`;
    if (mb !== null) {
      await mkdir(opts.outDir, { recursive: true });
      await writeFile(join(opts.outDir, DYNAMICS_FILE), mb.onnx);
    }
    const seconds = (performance.now() - t0) / 1000;
    const card = await learner.writeModelDir(opts.outDir, {
      ...cardHead(opts.robot, version, opts.epsRisk, data.actDim),
      ...(mb === null ? {} : { recoveryMode: 'model-based' as const, dynamics: mb.card, planner: mb.planner }),
      data: data_,
      metrics: {
        ...offlineMetrics(score, opts.aurocHorizon, v.length, positives, split.train.length, last),
        ...(mb === null ? {} : { dynamics: mb.metrics }),
      },
      training: {
        engine: 'rshield/nn on onnxruntime-node',
        steps: opts.steps,
        batch: learner.opts.batch,
        hidden: [...(opts.sizes ?? defaultSizes).hidden],
        lr: opts.lr,
        ...(opts.criticSgdLrs === undefined ? {} : { criticOptimizer: 'sgd', criticSgdLrs: opts.criticSgdLrs }),
        tau: opts.tau,
        violationShare: opts.violationShare,
        seed: opts.seed,
        nextAction: opts.nextAction ?? 'logged',
        ...(opts.init === undefined ? {} : { initFrom: opts.init.from }),
        seconds: Number(seconds.toFixed(1)),
        normalizer,
        files: { critic: CRITIC_FILE },
        ...(mb === null ? {} : { dynamics: mb.training }),
      },
    });
    return { card, seconds, auroc: score };
  } finally {
    await learner.release();
  }
}

/** What model-based training adds to a model directory. */
interface DynamicsResult {
  readonly onnx: Uint8Array;
  readonly card: DynamicsCardPart;
  readonly planner: PlannerSettingsInput;
  readonly metrics: Record<string, number>;
  readonly training: Record<string, unknown>;
}

/** The dynamics ensemble on the critic's training episodes, scored on its held-out ones. */
async function trainDynamics(
  data: Dataset,
  split: { train: Uint32Array; validation: Uint32Array },
  o: NonNullable<OfflineTrainOptions['modelBased']>,
  seed: number,
  opts: OfflineTrainOptions,
): Promise<DynamicsResult> {
  const t0 = performance.now();
  const ens = new DynamicsEnsemble({
    obsDim: data.obsDim,
    actDim: data.actDim,
    seed,
    ...(o.sizes === undefined ? {} : { sizes: o.sizes }),
    ...(o.batch === undefined ? {} : { batch: o.batch }),
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
  });
  try {
    const fit = await ens.fit(data, split.train, o.epochs, o.onEpoch);
    const ev = await ens.evaluate(data, split.validation);
    const r4 = (x: number): number => Number(x.toPrecision(4));
    return {
      onnx: ens.exportOnnx(),
      card: { file: DYNAMICS_FILE, inputs: { obs: 'obs', act: 'act' }, outputs: { mean: 'mean', logvar: 'logvar' }, ensemble: ens.sizes.ensemble },
      planner: o.planner,
      metrics: { heldOutMse: r4(ev.mse), heldOutStillMse: r4(ev.stillMse), heldOutNll: r4(ev.nll), finalTrainNll: r4(fit.epochs.at(-1)?.nll ?? Number.NaN) },
      training: {
        epochs: o.epochs,
        ensemble: ens.sizes.ensemble,
        hidden: [...ens.sizes.hidden],
        batch: ens.batch,
        seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
        normalizer: fit.normalizer,
      },
    };
  } finally {
    await ens.release();
  }
}
