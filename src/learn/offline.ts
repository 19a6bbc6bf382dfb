/**
 * Offline pretraining of the safety critic and the recovery policy on D_offline (thesis
 * Algorithm 1, lines 1–3; reference `pretrain_critic_recovery`), with a held-out AUROC.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/index.js';
import type { ModelCardInput } from '../config/model-card.js';
import { failsafeAction } from '../envs/index.js';
import { auroc } from './auroc.js';
import { BatchSampler } from './batch-sampler.js';
import { normalizerFromData } from './normalizer.js';
import { SafetyLearner, CRITIC_FILE } from './safety-learner.js';
import { splitByEpisode, violationWithin } from './validation.js';
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
  /** Called every few steps with the step count and the latest losses. */
  readonly onProgress?: (step: number, criticLoss: number, recoveryLoss: number) => void;
}

export interface OfflineTrainResult {
  readonly card: ModelCardInput;
  readonly seconds: number;
  readonly auroc: number;
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export async function trainOffline(data: Dataset, opts: OfflineTrainOptions): Promise<OfflineTrainResult> {
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const meta = data.meta;
  const split = splitByEpisode(data.episode, opts.validationShare ?? 0.1, rng.fork());
  const normalizer = normalizerFromData(data, meta.actLow, meta.actHigh);
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
  });
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
    const S = data.obsDim;
    const A = data.actDim;
    const vObs = new Float32Array(v.length * S);
    const vAct = new Float32Array(v.length * A);
    v.forEach((row, i) => {
      vObs.set(data.obs.subarray(row * S, row * S + S), i * S);
      vAct.set(data.act.subarray(row * A, row * A + A), i * A);
    });
    const labelsAll = violationWithin(data, opts.aurocHorizon);
    const labels = Uint8Array.from(v, (row) => labelsAll[row]!);
    const scores = v.length > 0 ? await learner.scoreCritic(vObs, vAct) : new Float32Array(0);
    const score = auroc(scores, labels);
    const positives = labels.reduce((n, l) => n + l, 0);

    const data_ = await Promise.all(data.files.map(async (f) => ({ file: basename(f.path), sha256: await sha256File(f.path), transitions: f.transitions })));
    const onnx = learner.exportOnnx();
    const version = `${opts.robot}-${createHash('sha256').update(onnx.critic).update(onnx.recovery).digest('hex').slice(0, 12)}`;
    const seconds = (performance.now() - t0) / 1000;
    const card = await learner.writeModelDir(opts.outDir, {
      robot: opts.robot,
      version,
      createdAt: new Date().toISOString(),
      epsRisk: opts.epsRisk,
      failsafe: Array.from(failsafeAction(opts.robot)),
      hysteresis: 0,
      data: data_,
      metrics: {
        auroc: Number.isNaN(score) ? null : Number(score.toFixed(4)),
        aurocHorizon: opts.aurocHorizon,
        validationTransitions: v.length,
        validationPositives: positives,
        trainTransitions: split.train.length,
        finalCriticLoss: Number(last.criticLoss.toPrecision(4)),
        finalRecoveryLoss: Number(last.recoveryLoss.toPrecision(4)),
      },
      training: {
        engine: 'rshield/nn on onnxruntime-node',
        steps: opts.steps,
        batch: learner.opts.batch,
        hidden: [...(opts.sizes ?? defaultSizes).hidden],
        lr: opts.lr,
        tau: opts.tau,
        violationShare: opts.violationShare,
        seed: opts.seed,
        nextAction: opts.nextAction ?? 'logged',
        seconds: Number(seconds.toFixed(1)),
        normalizer,
        files: { critic: CRITIC_FILE },
      },
    });
    return { card, seconds, auroc: score };
  } finally {
    await learner.release();
  }
}
