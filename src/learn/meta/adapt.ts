/**
 * MESA phase 2 (reference notes §6.1): adapt a trained critic and recovery policy to a new
 * robot from its small dataset: plain Adam steps from the given weights, as the reference's
 * `update_parameters` (lr 1e-3). Any rshield model directory works as the start (meta-trained,
 * pooled multi-task, or an ordinary one), which is how the baselines share this code.
 */
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import type { Dataset } from '../../data/index.js';
import type { ModelCard } from '../../config/model-card.js';
import { loadModelCard } from '../../models/model-dir.js';
import { defaultsFor } from '../defaults.js';
import { defaultSizes, type NetworkSizes } from '../networks.js';
import { isNormalizer } from '../normalizer.js';
import { trainOffline, type OfflineInit, type OfflineTrainResult } from '../offline.js';
import { readOnnxWeights } from '../onnx-weights.js';
import { adaptDefaults } from './meta-defaults.js';

export interface AdaptOptions {
  readonly modelDir: string;
  readonly outDir: string;
  readonly steps?: number;
  readonly lr?: number;
  readonly batch?: number;
  readonly seed?: number;
  readonly threads?: number;
  /** ε_risk of the adapted card (default: the start model's). */
  readonly epsRisk?: number;
  /** Share of episodes held out for the card's AUROC (default 0: the new robot's data is scarce). */
  readonly validationShare?: number;
  /**
   * Plain SGD on the critic instead of Adam: 'learned' takes the meta-learned inner learning
   * rate of each tensor from the card (`training.innerLr`, written by meta-train) — MESA's own
   * inner step repeated `steps` times; a number is one learning rate for every tensor.
   */
  readonly sgd?: 'learned' | number;
  readonly onProgress?: (step: number, criticLoss: number, recoveryLoss: number) => void;
}

/** A model directory as the start of further training: its card, weights, normaliser and widths. */
export async function loadStart(modelDir: string): Promise<{ card: ModelCard; init: OfflineInit; sizes: NetworkSizes }> {
  const card = await loadModelCard(modelDir);
  const n = card.training?.normalizer;
  if (!isNormalizer(n)) throw new RShieldError('E_MODEL', `${modelDir}: the card has no training.normalizer; only models written by rshield train or meta-train can be adapted`, { path: modelDir });
  const hidden = card.training?.hidden;
  const sizes = Array.isArray(hidden) && hidden.length > 0 && hidden.every((h) => Number.isInteger(h) && (h as number) > 0) ? { hidden: hidden as number[] } : defaultSizes;
  const init: OfflineInit = {
    critic: await readOnnxWeights(join(modelDir, card.critic.file)),
    policy: await readOnnxWeights(join(modelDir, card.recovery.file)),
    normalizer: n,
    from: card.version,
  };
  return { card, init, sizes };
}

/** The per-tensor SGD learning rates `sgd` asks for, or undefined for Adam. */
function sgdRates(o: AdaptOptions, card: ModelCard, names: Iterable<string>): Record<string, number> | undefined {
  if (o.sgd === undefined) return undefined;
  if (o.sgd === 'learned') {
    const lrs = card.training?.innerLr;
    if (typeof lrs !== 'object' || lrs === null) throw new RShieldError('E_MODEL', `${o.modelDir}: the card has no training.innerLr (only meta-trained models learn inner learning rates)`, { path: o.modelDir });
    return lrs as Record<string, number>;
  }
  if (!Number.isFinite(o.sgd) || o.sgd <= 0) throw new RShieldError('E_USAGE', `adapt sgd learning rate must be positive, got ${o.sgd}`, { sgd: o.sgd });
  const lr = o.sgd;
  return Object.fromEntries([...names].map((n) => [n, lr]));
}

export async function adaptModel(data: Dataset, o: AdaptOptions): Promise<OfflineTrainResult & { from: string }> {
  const { card, init, sizes } = await loadStart(o.modelDir);
  const path = data.files[0]?.path ?? '?';
  if (data.size === 0) throw new RShieldError('E_DATA', `${path} holds no transitions: nothing to adapt to`, { file: path });
  if (data.meta.robot !== card.robot) throw new RShieldError('E_DATA', `${path} is robot '${data.meta.robot}', the model in ${o.modelDir} is for '${card.robot}'`, { file: path, robot: data.meta.robot });
  if (data.obsDim !== card.obsDim || data.actDim !== card.actDim) {
    throw new RShieldError('E_DATA', `${path} has obs ${data.obsDim}, act ${data.actDim}; the model in ${o.modelDir} takes obs ${card.obsDim}, act ${card.actDim}`, { file: path });
  }
  const d = defaultsFor(card.robot);
  const criticSgdLrs = sgdRates(o, card, init.critic.keys());
  const result = await trainOffline(data, {
    ...d,
    robot: card.robot,
    outDir: o.outDir,
    seed: o.seed ?? 0,
    gammaRisk: card.gammaRisk,
    epsRisk: o.epsRisk ?? card.epsRisk,
    steps: o.steps ?? adaptDefaults.steps,
    lr: o.lr ?? adaptDefaults.lr,
    batch: o.batch ?? d.batch,
    sizes,
    init,
    validationShare: o.validationShare ?? 0,
    ...(criticSgdLrs === undefined ? {} : { criticSgdLrs }),
    ...(o.threads === undefined ? {} : { threads: o.threads }),
    ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
  });
  return { ...result, from: card.version };
}
