/**
 * The online learner of the companion trainer (thesis Algorithm 1, online phase): after
 * offline pretraining (from data, or starting from a trained model directory), one critic and
 * one recovery update per received transition, sampling from offline and online data together.
 */
import { join } from 'node:path';
import { loadModelCard, type ModelCard } from '../config/model-card.js';
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Transition } from '../core/types.js';
import { readDataset } from '../data/index.js';
import { createEnv, failsafeAction } from '../envs/index.js';
import { BatchSampler } from './batch-sampler.js';
import { defaultsFor } from './defaults.js';
import { normalizerFromData, type Normalizer } from './normalizer.js';
import { readOnnxWeights } from './onnx-weights.js';
import { ReplayBuffer } from './replay-buffer.js';
import { SafetyLearner, type UpdateResult } from './safety-learner.js';
import { defaultSizes } from './networks.js';

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
}

export interface OnlineTrainer {
  addTransitions(ts: readonly Transition[]): void;
  update(n: number): Promise<UpdateResult>;
  exportModel(dir: string, version: string): Promise<unknown>;
  readonly updates: number;
  readonly bufferSize: number;
  release(): Promise<void>;
}

function isNormalizer(x: unknown): x is Normalizer {
  const n = x as Partial<Normalizer> | undefined;
  return n !== undefined && [n.obsMean, n.obsStd, n.actCenter, n.actHalfRange].every((a) => Array.isArray(a) && a.every((v) => typeof v === 'number'));
}

export async function createOnlineTrainer(o: OnlineTrainerOptions): Promise<OnlineTrainer> {
  const d = defaultsFor(o.robot);
  const { spec } = createEnv(o.robot, { seed: o.seed });
  const buffer = new ReplayBuffer(spec.obsDim, spec.actDim);
  const dataset = o.data !== undefined && o.data.length > 0 ? await readDataset(o.data) : undefined;
  if (dataset !== undefined) {
    if (dataset.meta.robot !== o.robot) throw new RShieldError('E_DATA', `${dataset.files[0]?.path}: data is from robot '${dataset.meta.robot}', not '${o.robot}'`);
    buffer.addColumns(dataset);
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
  let last: UpdateResult = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };

  return {
    get updates() {
      return learner.updates - pretrainUpdates;
    },
    get bufferSize() {
      return buffer.size;
    },
    addTransitions(ts) {
      for (const t of ts) buffer.add(t);
      online += ts.length;
    },
    async update(n) {
      if (buffer.size === 0) throw new RShieldError('E_DATA', 'no transitions to learn from yet');
      for (let i = 0; i < n; i++) last = await learner.update(sampler.sample(buffer, rng));
      return last;
    },
    async exportModel(dir, version) {
      return learner.writeModelDir(dir, {
        robot: o.robot,
        version,
        createdAt: new Date().toISOString(),
        epsRisk,
        failsafe: Array.from(failsafeAction(o.robot)),
        hysteresis: card?.hysteresis ?? 0,
        metrics: { onlineUpdates: learner.updates - pretrainUpdates, onlineTransitions: online, bufferSize: buffer.size, criticLoss: last.criticLoss, recoveryLoss: last.recoveryLoss },
        training: { engine: 'rshield/nn on onnxruntime-node', mode: 'online', hidden: [...sizes.hidden], startedFrom: o.modelDir ?? 'data', seed: o.seed, normalizer },
      });
    },
    release: () => learner.release(),
  };
}
