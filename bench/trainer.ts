// `npm run bench -- trainer [--threads N] [--steps N]`: one safety-critic TD training step
// (twin 2×256 ReLU heads + sigmoid, batch 256, obs 4, act 3, Polyak target net, Adam) as one
// ONNX graph, against ONNX Runtime's own 256×256×256 MatMul rate measured in the same run.
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { Rng } from '../src/core/rng.js';
import { GraphBuilder, ParamSet, TrainingProgram, adam, polyak, twinCritic, serialize } from '../src/nn/index.js';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '300' } } });
const threads = Number(values.threads);
const steps = Number(values.steps);
const B = 256;
const OBS = 4;
const ACT = 3;
const H = 256;
const gamma = 0.99;

// ---- the training step graph --------------------------------------------------------------
const params = ParamSet.create({ rng: 1 });
const g = new GraphBuilder('critic_step');
const obs = g.input('obs', [B, OBS]);
const act = g.input('act', [B, ACT]);
const cost = g.input('cost', [B, 1]);
const nextObs = g.input('next_obs', [B, OBS]);
const nextAct = g.input('next_act', [B, ACT]);
const done = g.input('done', [B, 1]);
const q = twinCritic(g, params, obs, act);
const target = params.copy('target');
const qNext = twinCritic(g, target, nextObs, nextAct);
// y = c + (1 − done)·γ·max(Q1', Q2')(s', a')  (thesis §3.4, pessimistic twin target)
const y = g.add(cost, g.mul(g.sub(1, done), g.mul(qNext.max, gamma)));
const loss = g.add(g.mean(g.square(g.sub(q.q1, y))), g.mean(g.square(g.sub(q.q2, y))));
g.output('loss', loss);
adam(g, params, g.gradients(loss, params.trainable()), { lr: 3e-4 });
polyak(g, target, params, 0.005);

const program = await TrainingProgram.compile(g, { threads });
const rng = new Rng(7);
const batch = (n: number, f: () => number): Float32Array => Float32Array.from({ length: n }, f);
const feeds = {
  obs: batch(B * OBS, () => rng.uniform(-1, 1)),
  act: batch(B * ACT, () => rng.uniform(-1, 1)),
  cost: batch(B, () => (rng.next() < 0.1 ? 1 : 0)),
  next_obs: batch(B * OBS, () => rng.uniform(-1, 1)),
  next_act: batch(B * ACT, () => rng.uniform(-1, 1)),
  done: batch(B, () => (rng.next() < 0.1 ? 1 : 0)),
};

// Matrix-product FLOPs per step: online + target forward, online backward (weight grads for
// every layer, input grads for all but the first, whose input needs none).
const fwdMacs = (OBS + ACT) * H + H * H + H;
const macsPerStep = 2 * B * (fwdMacs + fwdMacs + fwdMacs + (H * H + H));
const flopsPerStep = 2 * macsPerStep;

for (let i = 0; i < 30; i++) await program.step(feeds);
const heapBefore = process.memoryUsage().heapUsed;
const t0 = process.hrtime.bigint();
let last = 0;
for (let i = 0; i < steps; i++) last = (await program.step(feeds)).loss!;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
const stepsPerSecond = steps / seconds;

// ---- ORT's own MatMul rate ----------------------------------------------------------------
const N = 256;
const mg = new GraphBuilder('matmul');
mg.output('c', mg.matmul(mg.input('a', [N, N]), mg.input('b', [N, N])));
const mm = await ort.InferenceSession.create(serialize(mg), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const a = new ort.Tensor('float32', batch(N * N, () => rng.uniform(-1, 1)), [N, N]);
const b = new ort.Tensor('float32', batch(N * N, () => rng.uniform(-1, 1)), [N, N]);
const c = new ort.Tensor('float32', new Float32Array(N * N), [N, N]);
for (let i = 0; i < 50; i++) await mm.run({ a, b }, { c });
const reps = 1000;
const t1 = process.hrtime.bigint();
for (let i = 0; i < reps; i++) await mm.run({ a, b }, { c });
const mmSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
const matmulGflops = (reps * 2 * N * N * N) / mmSeconds / 1e9;

const stepGflops = (flopsPerStep * stepsPerSecond) / 1e9;
console.log(
  JSON.stringify(
    {
      scenario: 'trainer',
      threads,
      batch: B,
      steps,
      params: params.count(),
      stepsPerSecond: Number(stepsPerSecond.toFixed(1)),
      msPerStep: Number((1000 / stepsPerSecond).toFixed(3)),
      matmulFlopsPerStep: flopsPerStep,
      stepGflops: Number(stepGflops.toFixed(2)),
      matmulGflops: Number(matmulGflops.toFixed(2)),
      efficiency: Number((stepGflops / matmulGflops).toFixed(3)),
      heapGrowthBytes: heapGrowth,
      finalLoss: Number(last.toFixed(5)),
      graphNodes: g.nodes.length,
    },
    null,
    2,
  ),
);
await program.release();
await mm.release();
