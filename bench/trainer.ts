// `npm run bench -- trainer [--threads N] [--steps N] [--spin 0|1] [--vs-torch]`: one safety-critic TD
// training step (twin 2×256 ReLU heads + sigmoid, batch 256, obs 4, act 3, Polyak target net, Adam)
// as one ONNX graph, against ONNX Runtime's own 256×256×256 MatMul rate measured in the same run.
// With --vs-torch, also the recovery step (Gaussian policy trained through the critic), the SAC
// update of the online Recovery RL loop (src/learn/sac/sac-agent.ts: twin soft Q, tanh-Gaussian
// policy, both Adam steps and the target, batch 256) and the PETS dynamics ensemble's step
// (src/learn/dynamics-ensemble.ts: 5 members, 3×200 swish, 32 rows each; timed as one epoch of 20
// batches through DynamicsEnsemble.fit), each also in PyTorch (bench/trainer-torch.py, when a
// python3 with torch is installed) in the same rounds. `loop` is the three updates of one online
// environment step (SAC + critic + recovery, one after the other): the updates-only ceiling of
// `npm run bench -- learn` in sequential mode.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { Rng } from '../src/core/rng.js';
import { GraphBuilder, ParamSet, TrainingProgram, adam, gaussianHead, polyak, twinCritic, serialize } from '../src/nn/index.js';
import { SacAgent } from '../src/learn/sac/sac-agent.js';
import { DynamicsEnsemble } from '../src/learn/dynamics-ensemble.js';
import type { TransitionColumnsView } from '../src/data/transition-columns.js';

const { values } = parseArgs({
  options: { threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '300' }, spin: { type: 'string' }, 'vs-torch': { type: 'boolean', default: false } },
});
const { onnx } = onnxProto;
const threads = Number(values.threads);
// Without --spin the program keeps TrainingProgram's default (no spinning).
const spin = values.spin === undefined ? undefined : values.spin !== '0';
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

const compileOpts = spin === undefined ? { threads } : { threads, spin };
const program = await TrainingProgram.compile(g, compileOpts);

// ---- the recovery step: minimise mean max(Q1, Q2)(s, π(s)), the critic read, not trained ----
const policy = ParamSet.create({ rng: 2 });
const r = new GraphBuilder('recovery_step');
const robs = r.input('obs', [B, OBS]);
const pol = gaussianHead(r, policy, robs, { actDim: ACT, logStd: 'param', logStdInit: Math.log(0.1), logStdMin: -6, logStdMax: 0, noise: r.noise('eps', [B, ACT]) });
r.output('loss', r.mean(twinCritic(r, params, robs, pol.action!).max));
adam(r, policy, r.gradients(r.outputs.get('loss')!, policy.trainable()), { lr: 3e-4 });
const recovery = values['vs-torch'] ? await TrainingProgram.compile(r, { ...compileOpts, rng: 3 }) : undefined;
// ---- the SAC update (the task policy's, src/learn/sac), on the calling thread -------------------
const identity = { obsMean: new Array<number>(OBS).fill(0), obsStd: new Array<number>(OBS).fill(1), actCenter: new Array<number>(ACT).fill(0), actHalfRange: new Array<number>(ACT).fill(1) };
const sac = values['vs-torch'] ? await SacAgent.create({ obsDim: OBS, actDim: ACT, normalizer: identity, seed: 5, batch: B, threads }) : undefined;
// ---- the PETS ensemble step (model-based recovery's dynamics), through its own fit() ----------
const PETS_BATCHES = 20;
const pets = values['vs-torch'] ? new DynamicsEnsemble({ obsDim: OBS, actDim: ACT, seed: 9, threads }) : undefined;
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

// ---- ORT's own MatMul rate, the reference ---------------------------------------------------
const N = 256;
const mg = new GraphBuilder('matmul');
mg.output('c', mg.matmul(mg.input('a', [N, N]), mg.input('b', [N, N])));
// The reference runs with the step's thread settings, spinning included.
const mm = await ort.InferenceSession.create(serialize(mg), {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: spin === true ? '1' : '0' } } },
});
const a = new ort.Tensor('float32', batch(N * N, () => rng.uniform(-1, 1)), [N, N]);
const b = new ort.Tensor('float32', batch(N * N, () => rng.uniform(-1, 1)), [N, N]);
const c = new ort.Tensor('float32', new Float32Array(N * N), [N, N]);
const matmulFlops = 2 * N * N * N;

// Steps and reference MatMuls alternate in rounds, so that load from other processes on a
// shared machine falls on both alike; the efficiency quoted is the median of the rounds'.
const rounds = 10;
const stepsPerRound = Math.max(1, Math.round(steps / rounds));
const matmulsPerRound = 3 * stepsPerRound; // about as long as the steps (275 vs 34 MFLOP)
const seconds = async (n: number, run: () => Promise<unknown>): Promise<number> => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await run();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};
let last = 0;
const stepOnce = async (): Promise<void> => {
  last = (await program.step(feeds)).loss!;
};
const matmulOnce = (): Promise<unknown> => mm.run({ a, b }, { c });
const recoveryFeeds = { obs: feeds.obs };
const recoveryOnce = async (): Promise<void> => {
  await recovery!.step(recoveryFeeds);
};
const sacBatch = { obs: feeds.obs, act: feeds.act, reward: batch(B, () => rng.uniform(-1, 1)), next_obs: feeds.next_obs, mask: batch(B, () => (rng.next() < 0.05 ? 0 : 1)) };
const sacOnce = async (): Promise<void> => {
  await sac!.update(sacBatch);
};
const petsRows = (pets?.batch ?? 32) * PETS_BATCHES;
const petsData: TransitionColumnsView = {
  size: petsRows, obsDim: OBS, actDim: ACT,
  obs: batch(petsRows * OBS, () => rng.uniform(-1, 1)), act: batch(petsRows * ACT, () => rng.uniform(-1, 1)),
  nextObs: batch(petsRows * OBS, () => rng.uniform(-1, 1)), cost: new Float32Array(petsRows), done: new Uint8Array(petsRows),
  episode: new Uint32Array(petsRows), step: new Uint32Array(petsRows), nextAct: new Float32Array(petsRows * ACT), hasNextAct: new Uint8Array(petsRows),
};
const petsAll = Uint32Array.from({ length: petsRows }, (_, i) => i);
/** One epoch: PETS_BATCHES Adam steps of the ensemble (per-step time = this ÷ PETS_BATCHES). */
const petsEpoch = async (): Promise<void> => {
  await pets!.fit(petsData, petsAll, 1);
};

// ---- PyTorch, in a child process that times N steps on request ---------------------------------
interface Torch {
  info: { torch: string; threads: number; blas: string[] };
  seconds: (step: 'critic' | 'recovery' | 'sac' | 'pets', n: number) => Promise<number>;
  close: () => void;
}
/** The system python3 with torch (not a version manager's shim, which may lack it), if any. */
function torchPython(): string | undefined {
  return ['/usr/bin/python3', 'python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}
async function startTorch(): Promise<Torch | { unavailable: string }> {
  const py = torchPython();
  if (py === undefined) return { unavailable: 'no python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread)' };
  const child = spawn(py, [fileURLToPath(new URL('trainer-torch.py', import.meta.url)), String(threads)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    // Like the engine's spin: false: spinning OpenMP workers, with OpenBLAS's own threads on
    // 2 shared cores, made torch's steps 20–100× slower between the engine's rounds.
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const l = await lines.next();
    if (l.done === true) throw new Error('bench/trainer-torch.py exited early');
    return JSON.parse(l.value) as Record<string, unknown>;
  };
  const info = (await next()) as unknown as Torch['info'];
  return {
    info,
    seconds: async (step, n) => {
      child.stdin.write(`${step} ${n}\n`);
      return (await next()).seconds as number;
    },
    close: () => child.stdin.end('quit\n'),
  };
}
const torchOrWhy = values['vs-torch'] ? await startTorch() : undefined;
const torch = torchOrWhy !== undefined && 'info' in torchOrWhy ? torchOrWhy : undefined;

await seconds(30, stepOnce);
await seconds(50, matmulOnce);
if (recovery !== undefined) await seconds(30, recoveryOnce);
if (sac !== undefined) await seconds(10, sacOnce);
if (pets !== undefined) await seconds(2, petsEpoch);
const heapBefore = process.memoryUsage().heapUsed;
const perRound: { stepS: number; mmS: number; eff: number }[] = [];
const vsRounds: { recoveryS: number; sacS: number; petsS: number; torchCriticS: number; torchRecoveryS: number; torchSacS: number; torchPetsS: number }[] = [];
// ORT's idle workers spin-wait for a while after a run; the pause lets one session's threads
// go to sleep before the other session is timed, so neither is timed against the other's spinning.
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));
for (let r = 0; r < rounds; r++) {
  await settle();
  const stepS = (await seconds(stepsPerRound, stepOnce)) / stepsPerRound;
  await settle();
  const mmS = (await seconds(matmulsPerRound, matmulOnce)) / matmulsPerRound;
  perRound.push({ stepS, mmS, eff: flopsPerStep / stepS / (matmulFlops / mmS) });
  if (recovery === undefined) continue;
  await settle();
  const recoveryS = (await seconds(stepsPerRound, recoveryOnce)) / stepsPerRound;
  // A SAC update costs about two critic steps: half as many.
  const sacSteps = Math.max(1, Math.round(stepsPerRound / 2));
  await settle();
  const sacS = (await seconds(sacSteps, sacOnce)) / sacSteps;
  // PyTorch steps take ~3× longer: a third as many keep its rounds about as long.
  const torchSteps = Math.max(1, Math.round(stepsPerRound / 3));
  const torchSacSteps = Math.max(1, Math.round(torchSteps / 2));
  const torchCriticS = torch === undefined ? Number.NaN : (await torch.seconds('critic', torchSteps)) / torchSteps;
  const torchRecoveryS = torch === undefined ? Number.NaN : (await torch.seconds('recovery', torchSteps)) / torchSteps;
  const torchSacS = torch === undefined ? Number.NaN : (await torch.seconds('sac', torchSacSteps)) / torchSacSteps;
  await settle();
  const petsS = (await seconds(1, petsEpoch)) / PETS_BATCHES;
  const torchPetsS = torch === undefined ? Number.NaN : (await torch.seconds('pets', PETS_BATCHES)) / PETS_BATCHES;
  vsRounds.push({ recoveryS, sacS, petsS, torchCriticS, torchRecoveryS, torchSacS, torchPetsS });
}
const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const stepSeconds = median(perRound.map((r) => r.stepS));
const matmulGflops = matmulFlops / median(perRound.map((r) => r.mmS)) / 1e9;
const stepsPerSecond = 1 / stepSeconds;
torch?.close();
const rate = (s: number): number => Number((1 / s).toFixed(1));
const side = (engineS: number[], torchS: number[]) => {
  const e = median(engineS);
  const t = median(torchS);
  // The ratio of each round (both sides under the same load), then the median.
  const ratios = engineS.map((x, i) => torchS[i]! / x);
  return {
    engine: { stepsPerSecond: rate(e), msPerStep: Number((1000 * e).toFixed(3)) },
    torch: torch === undefined ? null : { stepsPerSecond: rate(t), msPerStep: Number((1000 * t).toFixed(3)) },
    ratio: torch === undefined ? null : Number(median(ratios).toFixed(2)),
    ratioRange: torch === undefined ? null : [Math.min(...ratios), Math.max(...ratios)].map((x) => Number(x.toFixed(2))),
  };
};
const vsTorch =
  recovery === undefined
    ? undefined
    : {
        torch: torch?.info ?? (torchOrWhy as { unavailable: string }).unavailable,
        critic: side(perRound.map((x) => x.stepS), vsRounds.map((x) => x.torchCriticS)),
        recovery: side(vsRounds.map((x) => x.recoveryS), vsRounds.map((x) => x.torchRecoveryS)),
        recoveryOnnxNodes: onnx.ModelProto.decode(recovery.onnx).graph?.node?.length ?? 0,
        sac: side(vsRounds.map((x) => x.sacS), vsRounds.map((x) => x.torchSacS)),
        pets: side(vsRounds.map((x) => x.petsS), vsRounds.map((x) => x.torchPetsS)),
        // One online environment step's updates (SAC + critic + recovery) per round, summed.
        loop: side(
          vsRounds.map((x, i) => x.sacS + perRound[i]!.stepS + x.recoveryS),
          vsRounds.map((x) => x.torchSacS + x.torchCriticS + x.torchRecoveryS),
        ),
      };
const stepGflops = (flopsPerStep * stepsPerSecond) / 1e9;
console.log(
  JSON.stringify(
    {
      scenario: 'trainer',
      threads,
      spin: spin ?? false,
      batch: B,
      steps: rounds * stepsPerRound,
      rounds,
      params: params.count(),
      stepsPerSecond: Number(stepsPerSecond.toFixed(1)),
      msPerStep: Number((1000 * stepSeconds).toFixed(3)),
      matmulFlopsPerStep: flopsPerStep,
      stepGflops: Number(stepGflops.toFixed(2)),
      matmulGflops: Number(matmulGflops.toFixed(2)),
      efficiency: Number(median(perRound.map((r) => r.eff)).toFixed(3)),
      efficiencyRange: [Math.min(...perRound.map((r) => r.eff)), Math.max(...perRound.map((r) => r.eff))].map((e) => Number(e.toFixed(3))),
      heapGrowthBytes: heapGrowth,
      finalLoss: Number(last.toFixed(5)),
      onnxNodes: onnx.ModelProto.decode(program.onnx).graph?.node?.length ?? 0,
      ...(vsTorch === undefined ? {} : { vsTorch }),
    },
    null,
    2,
  ),
);
await program.release();
await recovery?.release();
await sac?.release();
await pets?.release();
await mm.release();
