// `npm run bench -- online [--robot dvrk-reacher] [--episodes 500] [--start weak|shipped] [--block 50]
//   [--every 500] [--seed 1] [--offline N] [--pretrain 300] [--noise X] [--threads 1]
//   [--gate] [--gate-tolerance 0.005] [--sampling mixed|union] [--violation-share X]
//   [--offline-share X] [--next-act proposed|executed]`
//
// Online learning under the shield, in process (no MQTT): thesis Algorithm 1's online phase.
// Both arms start from the same model and run the robot's scripted controller through the
// shield on the same episode seeds. The online arm feeds every executed transition (a′ of the
// TD target: the controller's proposal at s′, `--next-act`) to the online learner and runs one
// critic and one recovery update per transition; every `--every` updates it exports a model,
// prepares it and swaps it in between episodes. The baseline arm never updates. `--start weak`
// pretrains a deliberately weak model (`--offline` transitions of D_offline, default 2000,
// `--pretrain` steps); `--start shipped` starts from models/<robot> with the D_offline it was
// trained on (20 000 transitions of seed 1, scripts/build-models.sh). The controller alone
// (unshielded) runs on the same seeds too. The online learner's buffer holds that D_offline
// apart from the online ring; `--sampling mixed` (default) draws each batch with fixed shares
// (src/learn/batch-sampler.ts MixedBatchSampler), `union` uniformly over both as before.
// `--gate` adds a fourth arm, **gated**: the same online learning, but an exported version is
// swapped in only when it passes the quality gate (src/learn/quality-gate.ts gateVerdict: on the
// learner's held-out offline demos and online episodes apart, AUROC and caught share no more than
// the tolerance below the running version's or the start model's). Each online arm reports a
// trace per export: the shares of violating and of D_offline rows in the batches since the last
// export, and the version's AUROC, caught share (Q_risk > ε on rows within k steps of a
// violation) and mean Q_risk on the bench's own held-out D_offline (another seed, never seen by
// the learner); the gated arm adds the gate's two scores. Prints one JSON object; deterministic
// apart from timing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { loadModelCard } from '../src/models/model-dir.js';
import type { Transition } from '../src/core/types.js';
import { TransitionColumns, TransitionWriter, specMeta, readDataset } from '../src/data/index.js';
import { createController, createEnv, generateOfflineData, generatorInfo } from '../src/envs/index.js';
import { runEpisodes } from '../src/core/episode-runner.js';
import { Shield } from '../src/inference/shield.js';
import { auroc } from '../src/learn/auroc.js';
import { defaultsFor } from '../src/learn/defaults.js';
import { trainOffline } from '../src/learn/offline.js';
import type { BatchMix } from '../src/learn/batch-sampler.js';
import { createOnlineTrainer, type OnlineTrainer } from '../src/learn/online.js';
import { DEFAULT_GATE_TOLERANCE, gateVerdict } from '../src/learn/quality-gate.js';
import { violationWithin } from '../src/learn/validation.js';

const { values } = parseArgs({
  options: {
    robot: { type: 'string', default: 'dvrk-reacher' },
    episodes: { type: 'string', default: '500' },
    start: { type: 'string', default: 'weak' },
    block: { type: 'string', default: '50' },
    every: { type: 'string', default: '500' },
    seed: { type: 'string', default: '1' },
    offline: { type: 'string' },
    pretrain: { type: 'string', default: '300' },
    noise: { type: 'string' },
    threads: { type: 'string', default: '1' },
    gate: { type: 'boolean', default: false },
    'gate-tolerance': { type: 'string', default: String(DEFAULT_GATE_TOLERANCE) },
    sampling: { type: 'string', default: 'mixed' },
    'next-act': { type: 'string', default: 'proposed' },
    'violation-share': { type: 'string' },
    'offline-share': { type: 'string' },
  },
});
if (values['next-act'] !== 'proposed' && values['next-act'] !== 'executed') {
  console.error(`--next-act must be proposed or executed, got '${values['next-act']}'`);
  process.exit(2);
}
const nextAct: 'proposed' | 'executed' = values['next-act'];
if (values.sampling !== 'mixed' && values.sampling !== 'union') {
  console.error(`--sampling must be mixed or union, got '${values.sampling}'`);
  process.exit(2);
}
const shareOption = (name: 'violation-share' | 'offline-share'): number | undefined => {
  const v = values[name];
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) {
    console.error(`--${name} must be a number in [0, 1], got '${v}'`);
    process.exit(2);
  }
  return x;
};
// union: the composition before MixedBatchSampler (uniform over D_offline ∪ online, with the
// robot's violation share where it has one); mixed: the online trainer's defaults, or the shares given.
const robotShare = defaultsFor(values.robot).violationShare;
const vShare = shareOption('violation-share');
const oShare = shareOption('offline-share');
const mix: Partial<BatchMix> =
  values.sampling === 'union'
    ? { violationShare: robotShare > 0 ? robotShare : null, offlineShare: null }
    : { ...(vShare === undefined ? {} : { violationShare: vShare }), ...(oShare === undefined ? {} : { offlineShare: oShare }) };
const robot = values.robot;
const episodes = Number(values.episodes);
const block = Number(values.block);
const every = Number(values.every);
const seed = Number(values.seed);
// Shipped models were trained on 20 000 transitions of seed 1 (scripts/build-models.sh): the same D_offline seeds the buffer.
const offlineN = Number(values.offline ?? (values.start === 'shipped' ? 20000 : 2000));
const pretrain = Number(values.pretrain);
const threads = Number(values.threads);
const gateTolerance = Number(values['gate-tolerance']);
// nav1's scripted controller is noise-free and never strays into obstacles; noise makes it (docs/robots.md).
const noise = values.noise !== undefined ? Number(values.noise) : robot === 'nav1' ? 2 : 0;
if (values.start !== 'weak' && values.start !== 'shipped') {
  console.error(`--start must be weak or shipped, got '${values.start}'`);
  process.exit(2);
}
for (const [k, v] of Object.entries({ episodes, block, every, seed, offline: offlineN, pretrain, threads })) {
  if (!(Number.isInteger(v) && v >= (k === 'seed' ? 0 : 1))) {
    console.error(`--${k} must be an integer ≥ ${k === 'seed' ? 0 : 1}, got ${v}`);
    process.exit(2);
  }
}

/** 10 s: never reached by a decision, however loaded the machine (bench/shield.ts measures the tick). */
const DECISION_DEADLINE_US = 10_000_000;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = await mkdtemp(join(tmpdir(), 'rshield-bench-online-'));
const { spec } = createEnv(robot, { seed });

/** Writes `n` transitions of the robot's D_offline generator to an MCAP file. */
function writeOffline(path: string, n: number, s: number): void {
  const w = TransitionWriter.open(path, { ...specMeta(spec), generator: generatorInfo(robot).name, seed: s, requested: n, params: {} });
  try {
    for (const t of generateOfflineData(robot, { seed: s, transitions: n })) w.write(t);
  } finally {
    w.close();
  }
}

// ---- start model and held-out data ---------------------------------------------------------
const offlinePath = join(tmp, 'offline.mcap');
writeOffline(offlinePath, offlineN, seed);
let startDir: string;
let pretrainSeconds = 0;
if (values.start === 'weak') {
  startDir = join(tmp, 'start');
  const r = await trainOffline(await readDataset([offlinePath]), { ...defaultsFor(robot), robot, seed, outDir: startDir, steps: pretrain, threads });
  pretrainSeconds = r.seconds;
} else {
  startDir = join(repoRoot, 'models', robot);
}

// Held-out AUROC (src/learn/validation.ts): D_offline of another seed, violation within k steps.
const heldOutPath = join(tmp, 'held-out.mcap');
writeOffline(heldOutPath, 4000, seed + 7777);
const heldOut = await readDataset([heldOutPath]);
const heldLabels = violationWithin(heldOut, defaultsFor(robot).aurocHorizon);
const startEps = (await loadModelCard(startDir)).epsRisk;
/**
 * A model's critic on the bench's held-out D_offline: AUROC, the share of positive rows (a
 * violation within k steps) above ε (caught), and mean Q_risk on positive and negative rows.
 */
async function heldOutScore(modelDir: string): Promise<{ auroc: number; caught: number; meanQPositive: number; meanQNegative: number }> {
  const card = await loadModelCard(modelDir);
  const s = await ort.InferenceSession.create(join(modelDir, card.critic.file), { intraOpNumThreads: threads });
  try {
    const feeds = {
      [card.critic.inputs.obs]: new ort.Tensor('float32', heldOut.obs.subarray(0, heldOut.size * spec.obsDim), [heldOut.size, spec.obsDim]),
      [card.critic.inputs.act]: new ort.Tensor('float32', heldOut.act.subarray(0, heldOut.size * spec.actDim), [heldOut.size, spec.actDim]),
    };
    const out = await s.run(feeds);
    const q = out[card.critic.output]!.data as Float32Array;
    let pos = 0;
    let caught = 0;
    let qPos = 0;
    let qNeg = 0;
    for (let i = 0; i < q.length; i++) {
      if (heldLabels[i] === 1) {
        pos++;
        qPos += q[i]!;
        if (q[i]! > startEps) caught++;
      } else qNeg += q[i]!;
    }
    return { auroc: round(auroc(q, heldLabels), 4), caught: round(caught / pos, 4), meanQPositive: round(qPos / pos, 4), meanQNegative: round(qNeg / (q.length - pos), 4) };
  } finally {
    await s.release();
  }
}

// ---- one arm ---------------------------------------------------------------------------------
interface Block {
  episodes: [number, number];
  successes: number;
  violations: number;
  interventions: number;
  failsafes: number;
  ticks: number;
  /** Mean Q_risk(s, a_task) over ticks where the task action was executed. */
  meanQRiskTask: number;
  /** Mean Q_risk(s, a_task) over all ticks. */
  meanQRisk: number;
  /** The model versions that ran in this block, in order. */
  models: string[];
  updates?: number;
}

function round(x: number, d: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(d)) : x;
}

/** One export of an online arm: what the batches held since the last one, and how the critic scores. */
interface TraceStep {
  updates: number;
  /** Shares of the rows drawn into critic batches since the last export. */
  batchViolationShare: number;
  batchOfflineShare: number;
  /** This version's critic on the bench's held-out D_offline (never seen by the learner or the gate). */
  heldOut: Awaited<ReturnType<typeof heldOutScore>>;
  /** Gated arm: the learner's own two held-out sets (src/learn/quality-gate.ts) and the verdict. */
  gate?: { offline: GateSet; online: GateSet; note: string };
  swapped: boolean;
}
interface GateSet {
  auroc: number;
  referenceAuroc: number;
  caught: number;
  referenceCaught: number;
  positives: number;
  rows: number;
  publish: boolean;
}

/**
 * `trainer` null: the baseline (or, with `shielded` false, the controller alone). `gated`: swap
 * only versions that pass the quality gate; `finalDir` is then the last version swapped in.
 */
async function runArm(trainer: OnlineTrainer | null, shielded = true, gated = false): Promise<{ blocks: Block[]; updateSeconds: number; swaps: number; finalDir: string; trace: TraceStep[] }> {
  const trace: TraceStep[] = [];
  const env = createEnv(robot, { seed });
  const controller = createController(robot, { seed, noise });
  // The tick deadline is far off: this bench measures learning, and a decision made late by a
  // loaded machine (fail-safe hold) would change the trajectories from run to run.
  const shield = shielded ? await Shield.load({ modelDir: startDir, robot, threads: 1, deadlineUs: DECISION_DEADLINE_US }) : null;
  const blocks: Block[] = [];
  let updateSeconds = 0;
  let swaps = 0;
  let lastExport = 0;
  let finalDir = startDir;
  let qTask = 0;
  let qTaskN = 0;
  let qAll = 0;
  let qAllN = 0;
  const one = TransitionColumns.fixed(spec.obsDim, spec.actDim, 1);
  const learn = async (t: Transition): Promise<void> => {
    if (trainer === null) return;
    one.clear();
    one.push(t);
    trainer.addTransitions(one);
    const t0 = performance.now();
    await trainer.update(1);
    updateSeconds += (performance.now() - t0) / 1000;
  };
  const startBlock = (ep: number): Block => {
    qTask = qTaskN = qAll = qAllN = 0;
    return { episodes: [ep, Math.min(episodes, ep + block) - 1], successes: 0, violations: 0, interventions: 0, failsafes: 0, ticks: 0, meanQRiskTask: 0, meanQRisk: 0, models: [shield?.modelVersion ?? 'unshielded'] };
  };
  let cur = startBlock(0);
  let before = { successes: 0, violations: 0 };
  try {
    await runEpisodes({
      env, controller, episodes, seed, nextAct, ...(shield === null ? {} : { shield }),
      onTransition: async (t, d) => {
        cur.ticks++;
        if (d.source === 'recovery') cur.interventions++;
        else if (d.source === 'failsafe') cur.failsafes++;
        if (Number.isFinite(d.qRisk)) {
          qAll += d.qRisk;
          qAllN++;
          if (d.source === 'task') {
            qTask += d.qRisk;
            qTaskN++;
          }
        }
        await learn(t);
      },
      onEpisode: async (done, run) => {
        const ep = done - 1;
        cur.successes = run.successes - before.successes;
        cur.violations = run.violations - before.violations;
        // Between episodes: export, prepare and swap once `every` updates have accumulated.
        if (shield !== null && trainer !== null && trainer.updates - lastExport >= every) {
          lastExport = trainer.updates;
          const dir = join(tmp, `${gated ? 'gated' : 'online'}-${trainer.updates}`);
          await trainer.exportModel(dir, `${robot}-online.${trainer.updates}`);
          const counts = trainer.takeBatchCounts();
          const step: TraceStep = { updates: trainer.updates, batchViolationShare: round(counts.violations / counts.rows, 4), batchOfflineShare: round(counts.offline / counts.rows, 4), heldOut: await heldOutScore(dir), swapped: true };
          if (gated) {
            const v = await trainer.evaluate();
            const verdict = gateVerdict(v, gateTolerance);
            const set = (k: 'offline' | 'online'): GateSet => ({
              auroc: round(v[k].candidate.auroc, 4), referenceAuroc: round(v[k].reference.auroc, 4), caught: round(v[k].candidate.caught, 4), referenceCaught: round(v[k].reference.caught, 4),
              positives: v[k].candidate.positives, rows: v[k].candidate.rows, publish: verdict[k].publish,
            });
            step.gate = { offline: set('offline'), online: set('online'), note: verdict.note };
            step.swapped = verdict.publish;
            if (verdict.publish) trainer.acceptCurrent();
          }
          trace.push(step);
          if (step.swapped) {
            await shield.swap(await shield.prepare(dir));
            swaps++;
            finalDir = dir;
            if (ep % block !== block - 1) cur.models.push(shield.modelVersion);
          }
        }
        if (ep % block === block - 1 || ep === episodes - 1) {
          cur.meanQRiskTask = round(qTask / qTaskN, 4);
          cur.meanQRisk = round(qAll / qAllN, 4);
          if (trainer !== null) cur.updates = trainer.updates;
          blocks.push(cur);
          before = { successes: run.successes, violations: run.violations };
          if (done < episodes) cur = startBlock(done);
        }
      },
    });
  } finally {
    await shield?.close();
  }
  // Updates since the last export also count: export the final state once more.
  if (trainer !== null && !gated && trainer.updates > lastExport) {
    finalDir = join(tmp, `online-${trainer.updates}`);
    await trainer.exportModel(finalDir, `${robot}-online.${trainer.updates}`);
  }
  return { blocks, updateSeconds, swaps, finalDir, trace };
}

function totals(blocks: readonly Block[]): Record<string, number> {
  const sum = (k: 'successes' | 'violations' | 'interventions' | 'failsafes' | 'ticks'): number => blocks.reduce((n, x) => n + x[k], 0);
  const s = sum('successes');
  const v = sum('violations');
  return { episodes, successes: s, violations: v, ratio: round((s + 1) / (v + 1), 3), interventions: sum('interventions'), failsafes: sum('failsafes'), ticks: sum('ticks') };
}

try {
  const startScore = await heldOutScore(startDir);
  const startVersion = (await loadModelCard(startDir)).version;
  const unshielded = await runArm(null, false);
  const baseline = await runArm(null);
  const trainer = await createOnlineTrainer({ robot, modelDir: startDir, data: [offlinePath], seed, threads, mix });
  let online;
  try {
    online = await runArm(trainer);
  } finally {
    await trainer.release();
  }
  const finalScore = await heldOutScore(online.finalDir);
  let gatedArm;
  let gatedScore;
  if (values.gate) {
    const t2 = await createOnlineTrainer({ robot, modelDir: startDir, data: [offlinePath], seed, threads, mix });
    try {
      gatedArm = await runArm(t2, true, true);
    } finally {
      await t2.release();
    }
    gatedScore = await heldOutScore(gatedArm.finalDir);
  }
  const updates = online.blocks.at(-1)?.updates ?? 0;
  console.log(
    JSON.stringify(
      {
        scenario: 'online',
        robot,
        start: values.start,
        startVersion,
        seed,
        noise,
        episodes,
        blockEpisodes: block,
        exportEvery: every,
        offlineTransitions: offlineN,
        pretrainSteps: values.start === 'weak' ? pretrain : null,
        pretrainSeconds: round(pretrainSeconds, 1),
        epsRisk: (await loadModelCard(startDir)).epsRisk,
        unshielded: { blocks: unshielded.blocks.map(({ successes, violations }) => ({ successes, violations })), totals: totals(unshielded.blocks) },
        baseline: { blocks: baseline.blocks, totals: totals(baseline.blocks) },
        mix: trainer.mix,
        online: { blocks: online.blocks, totals: totals(online.blocks), updates, swaps: online.swaps, trace: online.trace },
        ...(gatedArm === undefined
          ? {}
          : { gated: { blocks: gatedArm.blocks, totals: totals(gatedArm.blocks), updates: gatedArm.blocks.at(-1)?.updates ?? 0, swaps: gatedArm.swaps, refused: gatedArm.trace.filter((g) => !g.swapped).length, gateTolerance, trace: gatedArm.trace } }),
        updatesPerSecond: round(updates / online.updateSeconds, 1),
        // gated: the last version the gated arm swapped in (the start model if none passed).
        heldOut: { transitions: heldOut.size, positives: heldLabels.reduce((n, l) => n + l, 0), start: startScore, final: finalScore, ...(gatedScore === undefined ? {} : { gated: gatedScore }) },
      },
      null,
      2,
    ),
  );
} finally {
  await rm(tmp, { recursive: true, force: true });
}
