/**
 * MESA phase 1 (reference notes §6.1): offline meta-training of the safety critic across the
 * datasets of a task family, one dataset per task; writes an ordinary model directory.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Dataset } from '../../data/index.js';
import type { ModelCardInput } from '../../config/model-card.js';
import { cardHead, dataEntries } from '../offline.js';
import { auroc } from '../auroc.js';
import { BatchSampler } from '../batch-sampler.js';
import { defaultSizes, type NetworkSizes } from '../networks.js';
import { normalizerFromData } from '../normalizer.js';
import { violationWithin } from '../validation.js';
import { MetaLearner, type TaskBatches } from './meta-learner.js';
import type { MetaDefaults } from './meta-defaults.js';

export interface MetaTrainOptions extends MetaDefaults {
  readonly family: string;
  readonly robot: string;
  readonly outDir: string;
  readonly seed: number;
  readonly gammaRisk: number;
  readonly epsRisk: number;
  readonly violationShare: number;
  readonly aurocHorizon: number;
  readonly threads?: number;
  readonly sizes?: NetworkSizes;
  readonly onProgress?: (iteration: number, outerLoss: number, innerLoss: number) => void;
}

export interface MetaTrainResult {
  readonly card: ModelCardInput;
  readonly seconds: number;
  readonly iterationsPerSecond: number;
}

/** Every task must be the family's robot with the same dimensions, and hold transitions. */
export function checkTasks(tasks: readonly Dataset[], robot: string, family: string): void {
  if (tasks.length < 2) throw new RShieldError('E_USAGE', `meta-training needs at least 2 task datasets, got ${tasks.length}`, { tasks: tasks.length });
  const first = tasks[0]!;
  for (const t of tasks) {
    const path = t.files[0]?.path ?? '?';
    if (t.size === 0) throw new RShieldError('E_DATA', `${path} holds no transitions`, { file: path });
    if (t.meta.robot !== robot) throw new RShieldError('E_DATA', `${path} is robot '${t.meta.robot}', task family '${family}' is robot '${robot}'`, { file: path, robot: t.meta.robot });
    if (t.obsDim !== first.obsDim || t.actDim !== first.actDim) {
      throw new RShieldError('E_DATA', `${path} has obs ${t.obsDim}, act ${t.actDim}; ${first.files[0]?.path ?? '?'} has obs ${first.obsDim}, act ${first.actDim}`, { file: path });
    }
    const taskFamily = t.meta.task?.family;
    if (taskFamily !== undefined && taskFamily !== family) throw new RShieldError('E_DATA', `${path} was collected for task family '${taskFamily}', not '${family}'`, { file: path, family: taskFamily });
  }
}

/** All tasks' observations as one column set, for the normaliser every task shares. */
function pooledObs(tasks: readonly Dataset[]): { size: number; obsDim: number; obs: Float32Array } {
  const size = tasks.reduce((n, t) => n + t.size, 0);
  const obsDim = tasks[0]!.obsDim;
  const obs = new Float32Array(size * obsDim);
  let at = 0;
  for (const t of tasks) {
    obs.set(t.obs.subarray(0, t.size * obsDim), at);
    at += t.size * obsDim;
  }
  return { size, obsDim, obs };
}

/** The meta-batch's task indices: distinct when there are enough tasks, else drawn with replacement (reference `random.choices`). */
export function drawTasks(n: number, k: number, rng: Rng, out: number[]): number[] {
  out.length = 0;
  if (n >= k) {
    while (out.length < k) {
      const i = rng.int(n);
      if (!out.includes(i)) out.push(i);
    }
  } else {
    for (let j = 0; j < k; j++) out.push(rng.int(n));
  }
  return out;
}

export async function metaTrain(tasks: readonly Dataset[], opts: MetaTrainOptions): Promise<MetaTrainResult> {
  checkTasks(tasks, opts.robot, opts.family);
  const t0 = performance.now();
  const first = tasks[0]!;
  const meta = first.meta;
  const smallest = Math.min(...tasks.map((t) => t.size));
  const batch = Math.min(opts.batch, smallest);
  const normalizer = normalizerFromData(pooledObs(tasks), meta.actLow, meta.actHigh);
  const rng = new Rng(opts.seed);
  const learner = await MetaLearner.create({
    obsDim: first.obsDim, actDim: first.actDim, actLow: meta.actLow, actHigh: meta.actHigh, normalizer,
    gammaRisk: opts.gammaRisk, batch, metaBatch: opts.metaBatch, outerLr: opts.outerLr, innerLr: opts.innerLr,
    innerLrLr: opts.innerLrLr, clipNorm: opts.clipNorm, tau: opts.tau, recoveryLr: opts.recoveryLr, seed: rng.nextUint32(),
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.sizes === undefined ? {} : { sizes: opts.sizes }),
  });
  try {
    // Two samplers per meta-batch slot: inner and outer batches are independent draws from the same task (reference §6.1).
    const slots: { inner: BatchSampler; outer: BatchSampler }[] = Array.from({ length: opts.metaBatch }, () => ({
      inner: new BatchSampler(batch, opts.violationShare, first.obsDim, first.actDim),
      outer: new BatchSampler(batch, opts.violationShare, first.obsDim, first.actDim),
    }));
    const batchRng = rng.fork();
    const drawn: number[] = [];
    const feed: TaskBatches[] = [];
    let last = { outerLoss: Number.NaN, innerLoss: Number.NaN, recoveryLoss: Number.NaN };
    const started = performance.now();
    for (let it = 1; it <= opts.iterations; it++) {
      drawTasks(tasks.length, opts.metaBatch, batchRng, drawn);
      feed.length = 0;
      drawn.forEach((ti, k) => {
        const s = slots[k]!;
        feed.push({ inner: s.inner.sample(tasks[ti]!, batchRng), outer: s.outer.sample(tasks[ti]!, batchRng) });
      });
      last = { ...(await learner.step(feed)) };
      if (!Number.isFinite(last.outerLoss)) throw new RShieldError('E_DATA', `meta-training diverged at iteration ${it}: outer loss ${last.outerLoss}`, { iteration: it });
      if (opts.onProgress !== undefined && (it % 25 === 0 || it === opts.iterations)) opts.onProgress(it, last.outerLoss, last.innerLoss);
    }
    const loopSeconds = (performance.now() - started) / 1000;

    // AUROC of the meta critic (before adaptation) on every task's data, as a sanity check.
    const perTask: number[] = [];
    for (const t of tasks) {
      const labels = violationWithin(t, opts.aurocHorizon);
      const scores = await learner.scoreCritic(t.obs.subarray(0, t.size * t.obsDim), t.act.subarray(0, t.size * t.actDim));
      perTask.push(auroc(scores, labels));
    }
    const finite = perTask.filter(Number.isFinite);
    const meanAuroc = finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;

    const data = await dataEntries(tasks.flatMap((t) => t.files));
    const onnx = learner.exportOnnx();
    const version = `${opts.robot}-mesa-${createHash('sha256').update(onnx.critic).update(onnx.recovery).digest('hex').slice(0, 12)}`;
    const seconds = (performance.now() - t0) / 1000;
    const r4 = (x: number): number | null => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);
    const card = await learner.writeModelDir(opts.outDir, {
      ...cardHead(opts.robot, version, opts.epsRisk, first.actDim),
      data,
      metrics: {
        trainAuroc: r4(meanAuroc),
        aurocHorizon: opts.aurocHorizon,
        finalOuterLoss: r4(last.outerLoss),
        finalInnerLoss: r4(last.innerLoss),
        finalRecoveryLoss: r4(last.recoveryLoss),
      },
      training: {
        engine: 'rshield/nn on onnxruntime-node',
        algorithm: 'mesa-maml',
        family: opts.family,
        tasks: tasks.map((t) => ({ file: basename(t.files[0]?.path ?? '?'), params: t.meta.params, transitions: t.size })),
        iterations: opts.iterations,
        metaBatch: opts.metaBatch,
        batch,
        hidden: [...(opts.sizes ?? defaultSizes).hidden],
        outerLr: opts.outerLr,
        innerLrInit: opts.innerLr,
        innerLr: learner.innerLearningRates(),
        clipNorm: opts.clipNorm,
        tau: opts.tau,
        recoveryLr: opts.recoveryLr,
        violationShare: opts.violationShare,
        seed: opts.seed,
        nextAction: 'logged',
        seconds: Number(seconds.toFixed(1)),
        iterationsPerSecond: Number((opts.iterations / loopSeconds).toFixed(2)),
        normalizer,
      },
    });
    return { card, seconds, iterationsPerSecond: opts.iterations / loopSeconds };
  } finally {
    await learner.release();
  }
}
