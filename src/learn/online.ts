/**
 * The online learner of the companion trainer (thesis Algorithm 1, online phase): after
 * offline pretraining (from data, or starting from a trained model directory), one critic and
 * one recovery update per received transition, sampling from offline and online data together.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCard } from '../config/model-card.js';
import { loadModelCard } from '../models/model-dir.js';
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { createReplayBuffer, readDataset, TransitionColumns, type Dataset, type TransitionColumnsView } from '../data/index.js';
import { BatchSampler, MixedBatchSampler, type BatchCounts, type BatchMix } from './batch-sampler.js';
import { adaptDefaults } from './meta/meta-defaults.js';
import { HeldOutSet, type ValidationScore } from './held-out.js';
import type { GateScores } from './quality-gate.js';
import { defaultsFor, dynamicsEveryFor } from './defaults.js';
import { isNormalizer, normalizerFromData, type Normalizer } from './normalizer.js';
import { readOnnxWeights } from './onnx-weights.js';
import { SafetyLearner, type UpdateResult } from './safety-learner.js';
import { defaultSizes } from './networks.js';
import { splitByEpisode } from './validation.js';
import { OnlineDynamics, type OnlineDynamicsOptions, type OnlineDynamicsStats } from './online-dynamics.js';

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
  /**
   * Online batch composition (src/learn/batch-sampler.ts MixedBatchSampler). Defaults: the
   * robot's violation share, or, where it samples uniformly, D_offline's own violating share
   * (what pretraining saw); DEFAULT_OFFLINE_SHARE of the safe rows from D_offline. null for
   * either: uniform over D_offline ∪ online, as before (the share then falls as the buffer grows).
   */
  readonly mix?: Partial<BatchMix>;
  /** How many of the latest training transitions are remembered for `adapt()` (default 2000). */
  readonly recentTransitions?: number;
  /**
   * A model-based start model's dynamics ensemble (src/learn/online-dynamics.ts): retrained every
   * `every` completed episodes (default the robot's, reference §3.2) for `epochs` (default 5) on
   * all training rows so far. Given for a start model without dynamics: E_USAGE.
   */
  readonly dynamics?: Partial<OnlineDynamicsOptions>;
}

/** What `adapt()` did. */
export interface AdaptationResult {
  /**
   * 'mesa': the start model was meta-trained (MESA phase 2: fresh Adam at lr 1e-3 on the new
   * data, as `rshield adapt`); 'fine-tune': more of the online learner's own steps.
   */
  readonly method: 'mesa' | 'fine-tune';
  /** Transitions adapted on (the last ones received, held-out episodes excepted) and their violations. */
  readonly rows: number;
  readonly violations: number;
  readonly steps: number;
  readonly criticLoss: number;
  readonly recoveryLoss: number;
}

/** Share of each online batch's safe rows drawn from D_offline (docs/training.md "Online"). */
export const DEFAULT_OFFLINE_SHARE = 0.5;

export interface OnlineTrainer {
  /** The robot's sizes, from the model card or the data's metadata. */
  readonly obsDim: number;
  readonly actDim: number;
  /** Rows of received transitions, in the order the shield streamed them. */
  addTransitions(columns: TransitionColumnsView): void;
  update(n: number): Promise<UpdateResult>;
  /** `metrics` are added to the card's metrics (the quality gate writes its AUROC there). */
  exportModel(dir: string, version: string, metrics?: Readonly<Record<string, unknown>>): Promise<unknown>;
  /**
   * The current critic on the held-out episodes (src/learn/held-out.ts), the reference — the
   * start model, or the weights last passed to acceptCurrent() — and the start model on the same
   * rows: pooled
   * (`auroc`, `reference`), and on the offline demos and the online episodes apart (the gate's
   * two scores, src/learn/quality-gate.ts).
   */
  evaluate(): Promise<ValidationScore & { reference: number } & GateScores>;
  /** The current weights become the reference of later evaluate() calls (a version was published). */
  acceptCurrent(): void;
  readonly updates: number;
  readonly bufferSize: number;
  /** Held-out rows (offline and online); never sampled for training. */
  readonly validationRows: number;
  /** The composition the online batches are drawn with (defaults resolved). */
  readonly mix: BatchMix;
  /** Rows drawn into online batches since the last call, by kind (violating, from D_offline). */
  takeBatchCounts(): BatchCounts;
  /**
   * Adapts the critic and π_rec to the robot as it is now, from the last `transitions`
   * transitions received for training (src/learn/meta/adapt.ts's recipe for a meta-trained
   * start model, else fine-tune steps with the online batches' violation share). The result
   * is the current weights: publish them through the gate like any other version.
   */
  adapt(o: { readonly transitions: number; readonly steps?: number }): Promise<AdaptationResult>;
  /** True when the start model was meta-trained (MESA), directly or through online versions of it. */
  readonly metaTrained: boolean;
  /** The dynamics ensemble's retraining, when the start model is model-based; null otherwise. */
  readonly dynamics: OnlineDynamicsStats | null;
  release(): Promise<void>;
}

interface RobotSpec {
  readonly obsDim: number;
  readonly actDim: number;
  readonly actLow: Float32Array;
  readonly actHigh: Float32Array;
}

/** Sizes and action bounds from the card or the data; both given, they must agree. */
function robotSpec(card: ModelCard | undefined, dataset: Dataset | undefined, modelDir: string | undefined): RobotSpec {
  const fromCard = card === undefined ? undefined : { obsDim: card.obsDim, actDim: card.actDim, actLow: Float32Array.from(card.actLow), actHigh: Float32Array.from(card.actHigh) };
  if (fromCard === undefined) {
    if (dataset === undefined) throw new RShieldError('E_USAGE', 'the online trainer needs offline data or a model directory to start from');
    return dataset.meta;
  }
  if (dataset !== undefined && (dataset.meta.obsDim !== fromCard.obsDim || dataset.meta.actDim !== fromCard.actDim)) {
    throw new RShieldError('E_DATA', `${dataset.files[0]?.path}: data has obsDim ${dataset.meta.obsDim}, actDim ${dataset.meta.actDim}; the model in ${modelDir} has ${fromCard.obsDim}, ${fromCard.actDim}`);
  }
  return fromCard;
}

/** The seed a model directory's card says it was trained with (`fallback` when it says none). */
async function trainingSeed(modelDir: string, fallback: number): Promise<number> {
  const seed = (await loadModelCard(modelDir)).training?.seed;
  return typeof seed === 'number' && Number.isInteger(seed) ? seed : fallback;
}

export async function createOnlineTrainer(o: OnlineTrainerOptions): Promise<OnlineTrainer> {
  const d = defaultsFor(o.robot);
  const dataset = o.data !== undefined && o.data.length > 0 ? await readDataset(o.data) : undefined;
  if (dataset !== undefined && dataset.meta.robot !== o.robot) throw new RShieldError('E_DATA', `${dataset.files[0]?.path}: data is from robot '${dataset.meta.robot}', not '${o.robot}'`);
  let card: ModelCard | undefined;
  let normalizer: Normalizer;
  if (o.modelDir !== undefined) {
    card = await loadModelCard(o.modelDir);
    if (card.robot !== o.robot) throw new RShieldError('E_MODEL', `${o.modelDir}: model is for robot '${card.robot}', not '${o.robot}'`);
    const n = card.training?.normalizer;
    if (!isNormalizer(n)) throw new RShieldError('E_MODEL', `${o.modelDir}: the card has no training.normalizer; only models written by rshield train can be continued (give --data instead)`);
    normalizer = n;
  } else if (dataset !== undefined) {
    normalizer = normalizerFromData(dataset, dataset.meta.actLow, dataset.meta.actHigh);
  } else {
    throw new RShieldError('E_USAGE', 'the online trainer needs offline data or a model directory to start from');
  }
  // The robot's sizes and bounds come from what it is trained from — the model's card or the
  // data's metadata — so a robot with no simulator trains too.
  const spec = robotSpec(card, dataset, o.modelDir);
  // D_offline's training split and the online ring are kept apart so every batch can hold a
  // fixed share of each (MixedBatchSampler).
  const offline = TransitionColumns.growable(spec.obsDim, spec.actDim, 1024);
  const buffer = createReplayBuffer(spec.obsDim, spec.actDim);
  const heldOut = new HeldOutSet(spec.obsDim, spec.actDim);
  // Held-out episode keys: offline ids as they are, online episodes numbered above them.
  let nextKey = 0;
  if (dataset !== undefined) {
    // Whole episodes, seeded exactly as trainOffline's validation split (with the start model's
    // training seed): given the D_offline a model was trained on, the held-out episodes are the
    // ones it never saw, so the gate's reference is not scored on its own training rows.
    const splitSeed = o.modelDir === undefined ? o.seed : await trainingSeed(o.modelDir, o.seed);
    const split = splitByEpisode(dataset.episode, o.validationShare ?? 0.1, new Rng(splitSeed).fork());
    offline.append(dataset, split.train);
    for (const i of split.validation) heldOut.addRow(dataset, i, dataset.episode[i]!);
    for (const e of dataset.episode) nextKey = Math.max(nextKey, e + 1);
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
  // A model-based start model keeps its dynamics ensemble, retrained as the reference does.
  let dynamics: OnlineDynamics | undefined;
  if (card !== undefined && o.modelDir !== undefined && card.dynamics !== undefined && card.planner !== undefined) {
    try {
      dynamics = await OnlineDynamics.create({
        card, modelDir: o.modelDir, offline, seed: o.seed ^ 0xd1a, ...(o.threads === undefined ? {} : { threads: o.threads }),
        options: { ...o.dynamics, every: o.dynamics?.every ?? dynamicsEveryFor(o.robot) },
      });
    } catch (err) {
      await learner.release();
      throw err;
    }
  } else if (o.dynamics !== undefined) {
    await learner.release();
    throw new RShieldError('E_USAGE', `dynamics retraining needs a model-based start model (a card with dynamics and planner parts); ${o.modelDir ?? 'the offline data'} has none`);
  }
  const rng = new Rng(o.seed ^ 0x5eed);
  let online = 0;
  // A meta-trained start (meta-train writes algorithm 'mesa-maml'), or an online version of one.
  const metaTrained = card?.training?.['algorithm'] === 'mesa-maml' || card?.training?.['metaTrained'] === true;
  // The latest training rows' slots in the replay ring, oldest overwritten first.
  const recentCap = o.recentTransitions ?? 2000;
  if (!Number.isInteger(recentCap) || recentCap < 1 || recentCap > buffer.capacity) {
    throw new RShieldError('E_USAGE', `recentTransitions must be an integer in [1, ${buffer.capacity}], got ${recentCap}`);
  }
  const recent = new Uint32Array(recentCap);
  let recentCount = 0;
  let adaptations = 0;
  if (o.modelDir === undefined) {
    const pretrainSampler = new BatchSampler(d.batch, d.violationShare, spec.obsDim, spec.actDim);
    const steps = o.steps ?? d.steps;
    for (let s = 1; s <= steps; s++) {
      await learner.update(pretrainSampler.sample(offline, rng));
      if (s % 100 === 0 || s === steps) o.onPretrainProgress?.(s, steps);
    }
  }
  let offlineViolations = 0;
  for (let i = 0; i < offline.size; i++) if ((offline.cost[i] ?? 0) > 0) offlineViolations++;
  const mix: BatchMix = {
    violationShare: o.mix?.violationShare !== undefined ? o.mix.violationShare : d.violationShare > 0 ? d.violationShare : offline.size > 0 ? offlineViolations / offline.size : null,
    offlineShare: o.mix?.offlineShare !== undefined ? o.mix.offlineShare : DEFAULT_OFFLINE_SHARE,
  };
  const sampler = new MixedBatchSampler(d.batch, mix, offline);
  const pretrainUpdates = learner.updates;
  const startCritic = learner.exportOnnx().critic;
  let reference = startCritic;
  const maxValidationRows = o.maxValidationRows ?? 50_000;
  // Online episodes are told apart by their id changing between consecutive transitions (one
  // shield streams its episodes in order); each new one gets an ordinal, every 10th is held out.
  let lastEpisode: number | undefined;
  let episodeOpen = false;
  let onlineEpisodes = 0;
  let holdingOut = false;
  let heldKey = 0;
  let last: UpdateResult = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };

  return {
    get updates() {
      return learner.updates - pretrainUpdates;
    },
    get bufferSize() {
      return offline.size + buffer.size;
    },
    mix,
    obsDim: spec.obsDim,
    actDim: spec.actDim,
    takeBatchCounts: () => sampler.takeCounts(),
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
          // An episode cut short (no done row) ends where the next begins.
          if (episodeOpen) dynamics?.episodeEnded();
          lastEpisode = episode;
          onlineEpisodes++;
          holdingOut = onlineEpisodes % HOLD_OUT_EVERY === 0 && heldOut.rows < maxValidationRows;
          if (holdingOut) heldKey = nextKey++;
        }
        if (holdingOut) heldOut.addRow(c, i, heldKey, 'online');
        else {
          const row = buffer.pushRow(c, i);
          sampler.noteOnlineRow(buffer, row);
          recent[recentCount++ % recentCap] = row;
          dynamics?.addRow(c, i);
        }
        episodeOpen = c.done[i] !== 1;
        if (!episodeOpen) dynamics?.episodeEnded();
      }
      online += c.size;
    },
    async evaluate() {
      const horizon = d.aurocHorizon;
      const current = await heldOut.evaluate(horizon, epsRisk, (obs, act) => learner.scoreCritic(obs, act));
      const ref = await heldOut.evaluate(horizon, epsRisk, (obs, act) => learner.scoreCritic(obs, act, reference));
      const start = reference === startCritic ? ref : await heldOut.evaluate(horizon, epsRisk, (obs, act) => learner.scoreCritic(obs, act, startCritic));
      return {
        ...current.all,
        reference: ref.all.auroc,
        offline: { candidate: current.offline, reference: ref.offline, start: start.offline },
        online: { candidate: current.online, reference: ref.online, start: start.online },
      };
    },
    acceptCurrent() {
      reference = learner.exportOnnx().critic;
      dynamics?.acceptExported();
    },
    get dynamics() {
      return dynamics?.stats ?? null;
    },
    async update(n) {
      if (offline.size + buffer.size === 0) throw new RShieldError('E_DATA', 'no transitions to learn from yet');
      await dynamics?.retrainIfDue();
      for (let i = 0; i < n; i++) last = await learner.update(sampler.sample(buffer, rng));
      return last;
    },
    metaTrained,
    async adapt(a) {
      if (!Number.isInteger(a.transitions) || a.transitions < 1 || a.transitions > recentCap) {
        throw new RShieldError('E_USAGE', `adapt: transitions must be an integer in [1, ${recentCap}] (recentTransitions), got ${a.transitions}`);
      }
      const n = Math.min(a.transitions, recentCount);
      if (n === 0) throw new RShieldError('E_DATA', 'adapt: no online transitions received yet');
      const rows = new Uint32Array(n);
      let violations = 0;
      for (let k = 0; k < n; k++) {
        rows[k] = recent[(recentCount - n + k) % recentCap]!;
        if ((buffer.cost[rows[k]!] ?? 0) > 0) violations++;
      }
      const steps = a.steps ?? adaptDefaults.steps;
      const adaptRng = new Rng((o.seed ^ 0xada97) + ++adaptations);
      let result: UpdateResult = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };
      if (metaTrained) {
        // MESA phase 2 (reference notes §6.1): plain Adam from the current weights at lr 1e-3 on
        // the new robot's data only, with the robot's violation share, as `rshield adapt` does.
        const adapter = await learner.withLearningRate(adaptDefaults.lr, adaptRng.nextUint32());
        try {
          const s = new BatchSampler(d.batch, d.violationShare, spec.obsDim, spec.actDim);
          for (let k = 0; k < steps; k++) result = { ...(await adapter.update(s.sample(buffer, adaptRng, rows))) };
        } finally {
          await adapter.release();
        }
      } else {
        const s = new BatchSampler(d.batch, mix.violationShare ?? 0, spec.obsDim, spec.actDim);
        for (let k = 0; k < steps; k++) result = { ...(await learner.update(s.sample(buffer, adaptRng, rows))) };
      }
      last = result;
      return { method: metaTrained ? 'mesa' : 'fine-tune', rows: n, violations, steps, criticLoss: result.criticLoss, recoveryLoss: result.recoveryLoss };
    },
    async exportModel(dir, version, metrics) {
      await mkdir(dir, { recursive: true });
      const dyn = dynamics === undefined ? undefined : await dynamics.export(dir, heldOut.columns);
      return learner.writeModelDir(dir, {
        // The start card's recovery mode (and, model-based, the dynamics and planner it needs).
        ...(card === undefined ? {} : { recoveryMode: card.recoveryMode }),
        ...dyn?.card,
        robot: o.robot,
        version,
        createdAt: new Date().toISOString(),
        epsRisk,
        failsafe: card?.failsafe ?? new Array<number>(spec.actDim).fill(0),
        hysteresis: card?.hysteresis ?? 0,
        metrics: { onlineUpdates: learner.updates - pretrainUpdates, onlineTransitions: online, bufferSize: offline.size + buffer.size, criticLoss: last.criticLoss, recoveryLoss: last.recoveryLoss, validationRows: heldOut.rows, ...metrics, ...(dyn === undefined ? {} : { dynamics: dyn.metrics }) },
        training: {
          engine: 'rshield/nn on onnxruntime-node', mode: 'online', hidden: [...sizes.hidden], startedFrom: o.modelDir ?? 'data', seed: o.seed, normalizer,
          ...(metaTrained ? { metaTrained: true } : {}), ...(dyn?.training === undefined ? {} : { dynamics: dyn.training }),
        },
      });
    },
    async release() {
      await dynamics?.release();
      await learner.release();
    },
  };
}
