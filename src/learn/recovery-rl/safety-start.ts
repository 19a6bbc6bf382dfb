/**
 * Where every safety-critic method of the comparison starts (reference notes §0 step 1, §4
 * "all safety-critic methods share the same pretrained critic and the same D_offline"):
 * D_offline is the robot's reference generator at the seed and size the shipped models were
 * built from (scripts/build-models.sh), and the pretrained critic and recovery policy are the
 * shipped model (models/<robot>), which `rshield train` made from exactly that data. Other
 * sizes or widths are pretrained here, on the first N transitions, as the reference does.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { EnvSpec, SimulatedRobot } from '../../core/types.js';
import { createReplayBuffer, TransitionColumns } from '../../data/index.js';
import { loadModelCard } from '../../models/model-dir.js';
import { BatchSampler } from '../batch-sampler.js';
import { defaultsFor, type TrainDefaults } from '../defaults.js';
import { defaultSizes, type NetworkSizes } from '../networks.js';
import { normalizerFromData, type Normalizer } from '../normalizer.js';
import { readOnnxWeights } from '../onnx-weights.js';
import { SafetyLearner } from '../safety-learner.js';
import { shippedModelDir } from '../../models/shipped-models.js';

/** The generator request behind each shipped model (scripts/build-models.sh), all with seed 1. */
const SHIPPED_REQUEST: Readonly<Record<string, number>> = { nav1: 20000, 'dvrk-reacher': 20000 };
const SHIPPED_SEED = 1;

export interface SafetyStartOptions {
  /** The simulated robot: its D_offline generator (shipped models' request and seed). */
  readonly robot: SimulatedRobot;
  readonly spec: EnvSpec;
  readonly seed: number;
  /** false: a fresh critic and an empty recovery buffer (ablation `no-pretraining`; the reference skips the whole offline phase). */
  readonly pretrain: boolean;
  /** Use only the first N transitions of D_offline (ablation `offline-size=N`). */
  readonly offlineSize?: number;
  /** Critic and recovery widths; other than the shipped model's, the critic is pretrained here. */
  readonly sizes?: NetworkSizes;
  /** Pretraining steps when pretraining here (default: the robot's, 10000). */
  readonly pretrainSteps?: number;
  readonly batch?: number;
  readonly threads?: number;
}

export interface SafetyStart {
  readonly learner: SafetyLearner;
  /** D_rec: D_offline (unless not pretrained), then every executed transition online. */
  readonly buffer: TransitionColumns;
  readonly sampler: BatchSampler;
  readonly normalizer: Normalizer;
  readonly defaults: TrainDefaults;
  readonly epsRisk: number;
  /** Where the critic came from: 'shipped', 'pretrained' (here) or 'fresh'. */
  readonly origin: 'shipped' | 'pretrained' | 'fresh';
  readonly offlineTransitions: number;
}

/** D_offline as the shipped model saw it, cut to its first `n` transitions when asked. */
export function offlineData(sim: SimulatedRobot, spec: EnvSpec, n?: number): TransitionColumns {
  const robot = sim.name;
  const request = SHIPPED_REQUEST[robot] ?? 10000;
  // A nav request yields fewer transitions than asked (rollouts stop at a violation): ask for more.
  const rows = [...sim.offlineData(SHIPPED_SEED, n === undefined ? request : Math.max(request, 2 * n))];
  const kept = n === undefined ? rows : rows.slice(0, n);
  if (n !== undefined && kept.length < n) throw new RShieldError('E_DATA', `${robot}: D_offline has ${kept.length} transitions, offline-size asks for ${n}`, { robot });
  return TransitionColumns.from(spec.obsDim, spec.actDim, kept);
}

async function shippedCard(robot: string) {
  const dir = shippedModelDir(robot);
  return { dir, card: existsSync(join(dir, 'model.json')) ? await loadModelCard(dir) : undefined };
}

/**
 * The input scaling every method of a comparison shares: the shipped model's (its D_offline's
 * statistics), else that of D_offline generated here.
 */
export async function normalizerFor(robot: SimulatedRobot, spec: EnvSpec, data?: TransitionColumns): Promise<Normalizer> {
  const { card } = await shippedCard(robot.name);
  const n = card?.training?.normalizer as Normalizer | undefined;
  return n ?? normalizerFromData(data ?? offlineData(robot, spec), spec.actLow, spec.actHigh);
}

export async function startSafety(o: SafetyStartOptions): Promise<SafetyStart> {
  const { robot: sim, spec } = o;
  const robot = sim.name;
  const d = defaultsFor(robot);
  const batch = o.batch ?? d.batch;
  const { dir: shippedDir, card: shipped } = await shippedCard(robot);
  const sizes = o.sizes ?? defaultSizes;
  const data = offlineData(sim, spec, o.offlineSize);
  const normalizer = await normalizerFor(sim, spec, data);
  const learner = await SafetyLearner.create({
    obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, normalizer,
    gammaRisk: shipped?.gammaRisk ?? d.gammaRisk, batch, lr: d.lr, tau: d.tau, seed: o.seed, sizes,
    ...(o.threads === undefined ? {} : { threads: o.threads }),
  });
  const buffer = createReplayBuffer(spec.obsDim, spec.actDim);
  const sampler = new BatchSampler(batch, d.violationShare, spec.obsDim, spec.actDim);
  const base = { learner, buffer, sampler, normalizer, defaults: d, epsRisk: shipped?.epsRisk ?? d.epsRisk };
  if (!o.pretrain) return { ...base, origin: 'fresh', offlineTransitions: 0 };
  buffer.append(data);
  const sameAsShipped = shipped !== undefined && o.offlineSize === undefined && sameWidths(shipped.training?.hidden, sizes.hidden);
  if (sameAsShipped) {
    learner.loadWeights(await readOnnxWeights(join(shippedDir, shipped.critic.file)), await readOnnxWeights(join(shippedDir, shipped.recovery.file)));
    return { ...base, origin: 'shipped', offlineTransitions: data.size };
  }
  const rng = new Rng(o.seed ^ 0x0ff1);
  const steps = o.pretrainSteps ?? d.steps;
  for (let s = 0; s < steps; s++) await learner.update(sampler.sample(buffer, rng));
  return { ...base, origin: 'pretrained', offlineTransitions: data.size };
}

function sameWidths(a: unknown, b: readonly number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}
