// `npm run bench -- meta [--iterations 40] [--threads 2] [--hidden 256,256] [--adapt-steps 300] [--seed 1]`:
// MESA's costs on this machine. (1) Meta-training iterations per second: one second-order MAML
// iteration over the twin critic (meta-batch 5, inner and outer batch 256 per task) plus the
// recovery policy's step, against one ordinary Recovery RL update (critic TD step + recovery
// step, batch 256) timed in the same run, as a ratio. (2) One adaptation as `rshield adapt`
// runs it: 300 transitions of the test robot, the default steps, from loading the meta model to
// the written model directory. Inputs are built before the timed parts. Prints one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.js';
import { readDataset, type Dataset } from '../src/data/index.js';
import { TransitionWriter, specMeta } from '../src/data/transition-writer.js';
import { createEnv, generateOfflineData, generatorInfo, taskFamily } from '../src/envs/index.js';
import { BatchSampler } from '../src/learn/batch-sampler.js';
import { defaultsFor } from '../src/learn/defaults.js';
import { adaptModel } from '../src/learn/meta/adapt.js';
import { adaptDefaults, metaDefaults } from '../src/learn/meta/meta-defaults.js';
import { MetaLearner, type TaskBatches } from '../src/learn/meta/meta-learner.js';
import { metaTrain } from '../src/learn/meta/meta-train.js';
import { normalizerFromData } from '../src/learn/normalizer.js';
import { SafetyLearner } from '../src/learn/safety-learner.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '40' },
    threads: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '256,256' },
    'adapt-steps': { type: 'string', default: String(adaptDefaults.steps) },
    seed: { type: 'string', default: '1' },
  },
});
const iterations = Number(values.iterations);
const threads = Number(values.threads);
const hidden = values.hidden.split(',').map(Number);
const seed = Number(values.seed);
const family = taskFamily('nav1');
const d = defaultsFor(family.robot);
const batch = metaDefaults.batch;
const K = metaDefaults.metaBatch;

const dir = await mkdtemp(join(tmpdir(), 'rshield-bench-meta-'));
async function write(file: string, params: Record<string, unknown>, s: number, n: number): Promise<Dataset> {
  const { spec } = createEnv(family.robot, { ...params, seed: s });
  const w = TransitionWriter.open(file, { ...specMeta(spec), generator: generatorInfo(family.robot).name, seed: s, requested: n, params });
  for (const t of generateOfflineData(family.robot, { seed: s, transitions: n, params })) w.write(t);
  w.close();
  return readDataset([file]);
}
const tasks: Dataset[] = [];
for (let i = 0; i < K; i++) tasks.push(await write(join(dir, `task-${i}.mcap`), family.train(seed, i), seed * 100 + i, 5000));
const test = await write(join(dir, 'test.mcap'), family.test(seed), seed * 100 + 99, 300);
const first = tasks[0]!;
const normalizer = normalizerFromData(first, first.meta.actLow, first.meta.actHigh);
const common = { obsDim: first.obsDim, actDim: first.actDim, actLow: first.meta.actLow, actHigh: first.meta.actHigh, normalizer, gammaRisk: d.gammaRisk, batch, seed, threads, sizes: { hidden } };

// Batches drawn up front: the timed loops only run the graphs.
const rng = new Rng(seed);
const feeds: TaskBatches[] = tasks.map((t) => {
  const inner = new BatchSampler(batch, d.violationShare, t.obsDim, t.actDim).sample(t, rng);
  const outer = new BatchSampler(batch, d.violationShare, t.obsDim, t.actDim).sample(t, rng);
  return { inner, outer };
});
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const meta = await MetaLearner.create({ ...common, metaBatch: K, outerLr: metaDefaults.outerLr, innerLr: metaDefaults.innerLr, innerLrLr: metaDefaults.innerLrLr, clipNorm: metaDefaults.clipNorm, tau: metaDefaults.tau, recoveryLr: metaDefaults.recoveryLr });
const plain = await SafetyLearner.create({ ...common, lr: d.lr, tau: d.tau });
for (let i = 0; i < 5; i++) {
  await meta.step(feeds);
  await plain.update(feeds[0]!.inner);
}
// Interleaved so that load from elsewhere on the machine hits both alike.
const metaMs: number[] = [];
const plainMs: number[] = [];
for (let i = 0; i < iterations; i++) {
  let t0 = performance.now();
  await meta.step(feeds);
  metaMs.push(performance.now() - t0);
  t0 = performance.now();
  await plain.update(feeds[0]!.inner);
  plainMs.push(performance.now() - t0);
}
await meta.release();
await plain.release();

// One adaptation, end to end, from a meta-trained model directory.
const metaDir = join(dir, 'meta');
await metaTrain(tasks, { ...metaDefaults, family: family.name, robot: family.robot, outDir: metaDir, seed, gammaRisk: d.gammaRisk, epsRisk: d.epsRisk, violationShare: d.violationShare, aurocHorizon: d.aurocHorizon, iterations: 5, threads, sizes: { hidden } });
const adaptSteps = Number(values['adapt-steps']);
const ta = performance.now();
await adaptModel(test, { modelDir: metaDir, outDir: join(dir, 'adapted'), steps: adaptSteps, seed, threads });
const adaptSeconds = (performance.now() - ta) / 1000;
await rm(dir, { recursive: true, force: true });

console.log(JSON.stringify({
  scenario: 'meta',
  threads,
  hidden,
  metaBatch: K,
  batch,
  iterations,
  metaIterationMsP50: Number(median(metaMs).toFixed(2)),
  metaIterationsPerSecond: Number((1000 / median(metaMs)).toFixed(2)),
  plainUpdateMsP50: Number(median(plainMs).toFixed(2)),
  metaOverPlainUpdate: Number((median(metaMs) / median(plainMs)).toFixed(2)),
  adaptation: { transitions: test.size, steps: adaptSteps, seconds: Number(adaptSeconds.toFixed(2)) },
}));
