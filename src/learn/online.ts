/**
 * The online learner of the companion trainer (thesis Algorithm 1, online phase): after
 * offline pretraining (from data, or starting from a trained model directory), one critic and
 * one recovery update per received transition, sampling from offline and online data together.
 */
import { join } from 'node:path';
import type { ModelCard } from '../config/model-card.js';
import { loadModelCard } from '../models/model-dir.js';
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { createReplayBuffer, readDataset, type TransitionColumnsView } from '../data/index.js';
import { createEnv, failsafeAction } from '../envs/index.js';
import { BatchSampler } from './batch-sampler.js';
import { HeldOutSet, type ValidationScore } from './held-out.js';
import { defaultsFor } from './defaults.js';
import { normalizerFromData, type Normalizer } from './normalizer.js';
import { readOnnxWeights } from './onnx-weights.js';
import { SafetyLearner, type UpdateResult } from './safety-learner.js';
import { defaultSizes } from './networks.js';
import { splitByEpisode } from './validation.js';

export type { ValidationScore } from './held-out.js';

/** Every HOLD_OUT_EVERY-th online episode (the 10th, 20th, …) is held out for the quality gate. */
const HOLD_OUT_EVERY = 10;

export interface OnlineTrainerOptions {
  readonly robot: string;
  /** Offline datasets (MCAP) that seed the replay buffer and, without a model, pretraining. */
  readonly data?: readonly string[];
  /** A model directory written by `rshield train` to continue from. */
  readonly modelDir?: string;
  readonly seed: number;
  /** Offline pretraining steps when starting from data alone (default: the robot's default). */
  readonly steps?: number;
  readonly threads?: number;
  readonly onPretrainProgress?: (step: number, total: number) => void;
  /** Share of the offline data's episodes held out for the quality gate (default 0.1). */
  readonly validationShare?: number;
  /** Held-out rows beyond which online episodes all go to training (default 50 000). */
  readonly maxValidationRows?: number;
}

export interface OnlineTrainer {
  /** Rows of received transitions, in the order the shield streamed them. */
  addTransitions(columns: TransitionColumnsView): void;
  update(n: number): Promise<UpdateResult>;
  /** `metrics` are added to the card's metrics (the quality gate writes its AUROC there). */
  exportModel(dir: string, version: string, metrics?: Readonly<Record<string, unknown>>): Promise<unknown>;
  /**
   * AUROC of the current critic on the held-out episodes (src/learn/held-out.ts), and of the
   * reference — the start model, or the weights last passed to acceptCurrent() — on the same rows.
   */
  evaluate(): Promise<ValidationScore & { reference: number }>;
  /** The current weights become the reference of later evaluate() calls (a version was published). */
  acceptCurrent(): void;
  readonly updates: number;
  readonly bufferSize: number;
  /** Held-out rows (offline and online); never sampled for training. */
  readonly validationRows: number;
  release(): Promise<void>;
}

function isNormalizer(x: unknown): x is Normalizer {
  const n = x as Partial<Normalizer> | undefined;
  return n !== undefined && [n.obsMean, n.obsStd, n.actCenter, n.actHalfRange].every((a) => Array.isArray(a) && a.every((v) => typeof v === 'number'));
}

export async function createOnlineTrainer(o: OnlineTrainerOptions): Promise<OnlineTrainer> {
  const d = defaultsFor(o.robot);
  const { spec } = createEnv(o.robot, { seed: o.seed });
  const buffer = createReplayBuffer(spec.obsDim, spec.actDim);
  const dataset = o.data !== undefined && o.data.length > 0 ? await readDataset(o.data) : undefined;
  const heldOut = new HeldOutSet(spec.obsDim, spec.actDim);
  // Held-out episode keys: offline ids as they are, online episodes numbered above them.
  let nextKey = 0;
  if (dataset !== undefined) {
    if (dataset.meta.robot !== o.robot) throw new RShieldError('E_DATA', `${dataset.files[0]?.path}: data is from robot '${dataset.meta.robot}', not '${o.robot}'`);
    // Whole episodes, seeded (as trainOffline's validation split): ~10% never enter the buffer.
    const split = splitByEpisode(dataset.episode, o.validationShare ?? 0.1, new Rng(o.seed ^ 0x0a1d));
    buffer.append(dataset, split.train);
    for (const i of split.validation) heldOut.addRow(dataset, i, dataset.episode[i]!);
    for (const e of dataset.episode) nextKey = Math.max(nextKey, e + 1);
  }
  let normalizer: Normalizer;
  let card: ModelCard | undefined;
  if (o.modelDir !== undefined) {
    card = await loadModelCard(o.modelDir);
    if (card.robot !== o.robot) throw new RShieldError('E_MODEL', `${o.modelDir}: model is for robot '${card.robot}', not '${o.robot}'`);
    const n = card.training?.normalizer;
    if (!isNormalizer(n)) throw new RShieldError('E_MODEL', `${o.modelDir}: the card has no training.normalizer; only models written by rshield train can be continued (give --data instead)`);
    normalizer = n;
  } else if (dataset !== undefined) {
    normalizer = normalizerFromData(dataset, spec.actLow, spec.actHigh);
  } else {
    throw new RShieldError('E_USAGE', 'the online trainer needs offline data or a model directory to start from');
  }
  const hidden = card?.training?.hidden;
  const sizes = Array.isArray(hidden) && hidden.every((h) => Number.isInteger(h) && (h as number) > 0) ? { hidden: hidden as number[] } : defaultSizes;
  const gammaRisk = card?.gammaRisk ?? d.gammaRisk;
  const epsRisk = card?.epsRisk ?? d.epsRisk;
  const learner = await SafetyLearner.create({
    obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh,
    normalizer, gammaRisk, batch: d.batch, lr: d.lr, tau: d.tau, seed: o.seed, sizes,
    ...(o.threads === undefined ? {} : { threads: o.threads }),
  });
  if (o.modelDir !== undefined && card !== undefined) {
    learner.loadWeights(await readOnnxWeights(join(o.modelDir, card.critic.file)), await readOnnxWeights(join(o.modelDir, card.recovery.file)));
  }
  const sampler = new BatchSampler(d.batch, d.violationShare, spec.obsDim, spec.actDim);
  const rng = new Rng(o.seed ^ 0x5eed);
  let online = 0;
  if (o.modelDir === undefined) {
    const steps = o.steps ?? d.steps;
    for (let s = 1; s <= steps; s++) {
      await learner.update(sampler.sample(buffer, rng));
      if (s % 100 === 0 || s === steps) o.onPretrainProgress?.(s, steps);
    }
  }
  const pretrainUpdates = learner.updates;
  let reference = learner.exportOnnx().critic;
  const maxValidationRows = o.maxValidationRows ?? 50_000;
  // Online episodes are told apart by their id changing between consecutive transitions (one
  // shield streams its episodes in order); each new one gets an ordinal, every 10th is held out.
  let lastEpisode: number | undefined;
  let onlineEpisodes = 0;
  let holdingOut = false;
  let heldKey = 0;
  let last: UpdateResult = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };

  return {
    get updates() {
      return learner.updates - pretrainUpdates;
    },
    get bufferSize() {
      return buffer.size;
    },
    get validationRows() {
      return heldOut.rows;
    },
    addTransitions(c) {
      if (c.obsDim !== spec.obsDim || c.actDim !== spec.actDim) {
        throw new RShieldError('E_DATA', `transitions have obsDim ${c.obsDim}, actDim ${c.actDim}; robot '${o.robot}' has ${spec.obsDim}, ${spec.actDim}`);
      }
      for (let i = 0; i < c.size; i++) {
        const episode = c.episode[i]!;
        if (episode !== lastEpisode) {
          lastEpisode = episode;
          onlineEpisodes++;
          holdingOut = onlineEpisodes % HOLD_OUT_EVERY === 0 && heldOut.rows < maxValidationRows;
          if (holdingOut) heldKey = nextKey++;
        }
        if (holdingOut) heldOut.addRow(c, i, heldKey);
        else buffer.pushRow(c, i);
      }
      online += c.size;
    },
    async evaluate() {
      const horizon = d.aurocHorizon;
      const current = await heldOut.evaluate(horizon, (obs, act) => learner.scoreCritic(obs, act));
      const ref = await heldOut.evaluate(horizon, (obs, act) => learner.scoreCritic(obs, act, reference));
      return { ...current, reference: ref.auroc };
    },
    acceptCurrent() {
      reference = learner.exportOnnx().critic;
    },
    async update(n) {
      if (buffer.size === 0) throw new RShieldError('E_DATA', 'no transitions to learn from yet');
      for (let i = 0; i < n; i++) last = await learner.update(sampler.sample(buffer, rng));
      return last;
    },
    async exportModel(dir, version, metrics) {
      return learner.writeModelDir(dir, {
        robot: o.robot,
        version,
        createdAt: new Date().toISOString(),
        epsRisk,
        failsafe: Array.from(failsafeAction(o.robot)),
        hysteresis: card?.hysteresis ?? 0,
        metrics: { onlineUpdates: learner.updates - pretrainUpdates, onlineTransitions: online, bufferSize: buffer.size, criticLoss: last.criticLoss, recoveryLoss: last.recoveryLoss, validationRows: heldOut.rows, ...metrics },
        training: { engine: 'rshield/nn on onnxruntime-node', mode: 'online', hidden: [...sizes.hidden], startedFrom: o.modelDir ?? 'data', seed: o.seed, normalizer },
      });
    },
    release: () => learner.release(),
  };
}
