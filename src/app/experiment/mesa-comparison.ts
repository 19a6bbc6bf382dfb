/**
 * The MESA comparison (thesis ch. 6; reference notes §6.1 baselines) on one task family and
 * one seed: the test robot's small dataset is all any method sees of the changed robot.
 *   mesa          meta-train on the training tasks, adapt on the small test dataset
 *   multi-task    pooled training on the union of the training tasks, the same adaptation
 *   rrl-small     Recovery RL trained on the small test dataset only
 *   unconstrained no shield
 * Each shielded model runs the robot's scripted controller on the test robot (cumulative
 * violations and successes), and its critic is scored on a large held-out dataset of the test
 * robot (AUROC of a violation within k steps): how well it knows the changed robot's risk.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runEpisodes } from '../../core/episode-runner.js';
import { readDataset, type Dataset } from '../../data/index.js';
import { TransitionWriter, specMeta } from '../../data/transition-writer.js';
import { createController, createEnv, generateOfflineData, generatorInfo, taskFamily, type EnvOptions, type TaskFamily } from '../../envs/index.js';
import { criticScores } from '../../inference/critic-scores.js';
import { Shield } from '../../inference/shield.js';
import { auroc } from '../../learn/auroc.js';
import { defaultsFor } from '../../learn/defaults.js';
import { EXPERIMENT_DEADLINE_US } from './scripted.js';
import { trainOffline } from '../../learn/offline.js';
import { violationWithin } from '../../learn/validation.js';
import { adaptModel } from '../../learn/meta/adapt.js';
import { metaDefaults, type MetaDefaults } from '../../learn/meta/meta-defaults.js';
import { metaTrain } from '../../learn/meta/meta-train.js';

export const COMPARED_METHODS = ['mesa', 'multi-task', 'rrl-small', 'unconstrained'] as const;
export type ComparedMethod = (typeof COMPARED_METHODS)[number];

export interface ComparisonSettings {
  readonly tasks: number;
  /** Transitions asked of the generator per training task. */
  readonly transitionsPerTask: number;
  /** The test robot's small dataset (reference: nav 200, cartpole 400). */
  readonly testTransitions: number;
  /** The large held-out dataset of the test robot the critics are scored on. */
  readonly evalTransitions: number;
  readonly metaIterations: number;
  /** Gradient steps of multi-task and rrl-small training. */
  readonly pretrainSteps: number;
  readonly adaptSteps: number;
  /**
   * How mesa and multi-task adapt to the small test dataset. 'inner-step': MESA's own inner
   * step (plain SGD on the critic), repeated adaptSteps times — mesa at its meta-learned
   * per-tensor learning rates, multi-task at the inner lr MESA starts from (metaDefaults.innerLr)
   * on every tensor. 'adam': the reference's `update_parameters`, Adam at adaptLr.
   */
  readonly adaptation: 'inner-step' | 'adam';
  /** Adam learning rate of the adaptation ('adam'; the recovery policy's in either case). */
  readonly adaptLr: number;
  readonly episodes: number;
  /** Exploration noise of the scripted controller on the test robot (share of the action half-range). */
  readonly noise: number;
  /**
   * How the shield recovers: the learned π_rec ('policy', the reference), or 'nearest-safe' — the
   * candidate action closest to the controller's that the critic rates safe — which puts the
   * critic alone to the test (docs/shield.md, "Nearest-safe recovery").
   */
  readonly recoveryMode: 'policy' | 'nearest-safe';
}

/** The reference's phase 2 (`update_parameters`, online_iters nav and cartpole 100): scored beside the chosen adaptation. */
export const REFERENCE_ADAPT = { steps: 100, lr: 1e-3 } as const;

/** Per family (every method gets 1500 outer or training steps): sizes that keep one seed to well under a minute on 2 cores. */
export const comparisonSettings: Readonly<Record<string, ComparisonSettings>> = {
  nav1: { tasks: 8, transitionsPerTask: 4000, testTransitions: 200, evalTransitions: 20000, metaIterations: 1500, pretrainSteps: 1500, adaptation: 'inner-step', adaptSteps: 10, adaptLr: 1e-3, episodes: 50, noise: 0, recoveryMode: 'policy' },
  nav2: { tasks: 8, transitionsPerTask: 4000, testTransitions: 200, evalTransitions: 20000, metaIterations: 1500, pretrainSteps: 1500, adaptation: 'inner-step', adaptSteps: 10, adaptLr: 1e-3, episodes: 50, noise: 0, recoveryMode: 'policy' },
  'cartpole-length': { tasks: 8, transitionsPerTask: 2000, testTransitions: 400, evalTransitions: 10000, metaIterations: 1500, pretrainSteps: 1500, adaptation: 'inner-step', adaptSteps: 10, adaptLr: 1e-3, episodes: 50, noise: 0.8, recoveryMode: 'policy' },
  'dvrk-reacher-weak-axis': { tasks: 8, transitionsPerTask: 3000, testTransitions: 300, evalTransitions: 10000, metaIterations: 1500, pretrainSteps: 1500, adaptation: 'inner-step', adaptSteps: 10, adaptLr: 1e-3, episodes: 50, noise: 0, recoveryMode: 'policy' },
};

export interface MethodResult {
  readonly method: ComparedMethod;
  readonly successes: number;
  readonly violations: number;
  /** (S + 1)/(V + 1). */
  readonly ratio: number;
  readonly interventions: number;
  /** Held-out AUROC of the critic on the test robot (null: unconstrained has none). */
  readonly auroc: number | null;
  /** The same AUROC of the critic before adaptation (mesa: the meta critic; multi-task: the pooled one; null otherwise). */
  readonly aurocBeforeAdapt: number | null;
  /** The same AUROC after the reference's adaptation instead (REFERENCE_ADAPT: 100 Adam steps, lr 1e-3); null where that is the adaptation run. */
  readonly aurocReferenceAdapt: number | null;
  readonly cumulativeViolations: readonly number[];
}

export interface SeedResult {
  readonly family: string;
  readonly seed: number;
  readonly testParams: EnvOptions;
  readonly methods: readonly MethodResult[];
  readonly seconds: number;
}

export interface ComparisonOptions {
  readonly family: string;
  readonly seed: number;
  /** Scratch directory for the datasets and models of this seed (removed afterwards unless `keep`). */
  readonly workDir: string;
  readonly keep?: boolean;
  readonly settings?: Partial<ComparisonSettings>;
  /** Meta-learner settings over metaDefaults (the iterations are `settings.metaIterations`). */
  readonly meta?: Partial<Omit<MetaDefaults, 'iterations'>>;
  readonly methods?: readonly ComparedMethod[];
  readonly threads?: number;
  readonly log?: (line: string) => void;
}

async function writeTask(file: string, f: TaskFamily, params: EnvOptions, seed: number, n: number): Promise<Dataset> {
  const { spec } = createEnv(f.robot, { ...params, seed });
  const w = TransitionWriter.open(file, { ...specMeta(spec), generator: generatorInfo(f.robot).name, seed, requested: n, params });
  try {
    for (const t of generateOfflineData(f.robot, { seed, transitions: n, params })) w.write(t);
  } finally {
    w.close();
  }
  return readDataset([file]);
}

const rounded = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : Number(x.toFixed(4)));

export async function runComparisonSeed(o: ComparisonOptions): Promise<SeedResult> {
  const t0 = performance.now();
  const f = taskFamily(o.family);
  const s: ComparisonSettings = { ...comparisonSettings[o.family]!, ...o.settings };
  const d = defaultsFor(f.robot);
  const log = o.log ?? ((): void => {});
  const dir = join(o.workDir, `${o.family}-seed${o.seed}`);
  await mkdir(dir, { recursive: true });
  const threads = o.threads ?? 2;
  const methods = o.methods ?? COMPARED_METHODS;
  try {
    const train: Dataset[] = [];
    for (let i = 0; i < s.tasks; i++) train.push(await writeTask(join(dir, `task-${i}.mcap`), f, f.train(o.seed, i), o.seed * 1000 + i, s.transitionsPerTask));
    const testParams = f.test(o.seed);
    const small = await writeTask(join(dir, 'test-small.mcap'), f, testParams, o.seed * 1000 + 500, s.testTransitions);
    const evalData = await writeTask(join(dir, 'test-eval.mcap'), f, testParams, o.seed * 1000 + 600, s.evalTransitions);
    log(`${o.family} seed ${o.seed}: ${train.length} tasks (${train.reduce((n, t) => n + t.size, 0)} transitions), test ${JSON.stringify(testParams)} ${small.size} transitions`);

    const sgdOf = (method: ComparedMethod): 'learned' | number => (method === 'mesa' ? 'learned' : (o.meta?.innerLr ?? metaDefaults.innerLr));
    const adaptTo = (method: ComparedMethod, from: string, out: string): Promise<unknown> =>
      adaptModel(small, { modelDir: from, outDir: out, steps: s.adaptSteps, lr: s.adaptLr, seed: o.seed, threads, ...(s.adaptation === 'inner-step' ? { sgd: sgdOf(method) } : {}) });
    // The reference's adaptation, scored only, where the comparison runs another.
    const referenceOf = new Map<ComparedMethod, string>();
    const referenceAdapt = async (method: ComparedMethod, from: string): Promise<void> => {
      if (s.adaptation === 'adam' && s.adaptSteps === REFERENCE_ADAPT.steps && s.adaptLr === REFERENCE_ADAPT.lr) return;
      const out = join(dir, `${method}-reference-adapt`);
      await adaptModel(small, { modelDir: from, outDir: out, steps: REFERENCE_ADAPT.steps, lr: REFERENCE_ADAPT.lr, seed: o.seed, threads });
      referenceOf.set(method, out);
    };
    const modelOf = new Map<ComparedMethod, string>();
    const startOf = new Map<ComparedMethod, string>();
    if (methods.includes('mesa')) {
      await metaTrain(train, {
        ...metaDefaults, ...o.meta, family: o.family, robot: f.robot, outDir: join(dir, 'mesa-meta'), seed: o.seed, gammaRisk: d.gammaRisk, epsRisk: d.epsRisk,
        violationShare: d.violationShare, aurocHorizon: d.aurocHorizon, iterations: s.metaIterations, threads,
      });
      await adaptTo('mesa', join(dir, 'mesa-meta'), join(dir, 'mesa'));
      await referenceAdapt('mesa', join(dir, 'mesa-meta'));
      startOf.set('mesa', join(dir, 'mesa-meta'));
      modelOf.set('mesa', join(dir, 'mesa'));
      log(`${o.family} seed ${o.seed}: mesa trained`);
    }
    if (methods.includes('multi-task')) {
      const pooled = await readDataset(train.map((t) => t.files[0]!.path));
      await trainOffline(pooled, { ...d, robot: f.robot, seed: o.seed, outDir: join(dir, 'multi-task-pooled'), steps: s.pretrainSteps, threads });
      await adaptTo('multi-task', join(dir, 'multi-task-pooled'), join(dir, 'multi-task'));
      await referenceAdapt('multi-task', join(dir, 'multi-task-pooled'));
      startOf.set('multi-task', join(dir, 'multi-task-pooled'));
      modelOf.set('multi-task', join(dir, 'multi-task'));
      log(`${o.family} seed ${o.seed}: multi-task trained`);
    }
    if (methods.includes('rrl-small')) {
      await trainOffline(small, { ...d, robot: f.robot, seed: o.seed, outDir: join(dir, 'rrl-small'), steps: s.pretrainSteps, threads, validationShare: 0 });
      modelOf.set('rrl-small', join(dir, 'rrl-small'));
      log(`${o.family} seed ${o.seed}: rrl-small trained`);
    }

    const labels = violationWithin(evalData, d.aurocHorizon);
    const results: MethodResult[] = [];
    for (const method of methods) {
      const modelDir = modelOf.get(method);
      const env = createEnv(f.robot, { ...testParams, seed: o.seed });
      const controller = createController(f.robot, { seed: o.seed, noise: s.noise, ...(typeof testParams.length === 'number' ? { length: testParams.length } : {}) });
      const shield = modelDir === undefined ? undefined : await Shield.load({ modelDir, robot: f.robot, threads, deadlineUs: EXPERIMENT_DEADLINE_US, recoveryMode: s.recoveryMode });
      try {
        const r = await runEpisodes({ env, controller, episodes: s.episodes, seed: o.seed * 7919 + 1, ...(shield === undefined ? {} : { shield }) });
        const aurocOf = async (m: string | undefined): Promise<number | null> => (m === undefined ? null : auroc(await criticScores(m, evalData.obs, evalData.act, evalData.size), labels));
        const score = await aurocOf(modelDir);
        const before = await aurocOf(startOf.get(method));
        const reference = await aurocOf(referenceOf.get(method));
        results.push({
          method,
          successes: r.successes,
          violations: r.violations,
          ratio: r.ratio,
          interventions: r.interventions,
          auroc: rounded(score),
          aurocBeforeAdapt: rounded(before),
          aurocReferenceAdapt: rounded(reference),
          cumulativeViolations: r.cumulativeViolations,
        });
      } finally {
        await shield?.close();
      }
    }
    return { family: o.family, seed: o.seed, testParams, methods: results, seconds: (performance.now() - t0) / 1000 };
  } finally {
    if (o.keep !== true) await rm(dir, { recursive: true, force: true });
  }
}
