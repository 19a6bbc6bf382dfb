// `npm run bench -- online [--robot dvrk-reacher] [--episodes 500] [--start weak|shipped] [--block 50]
//   [--every 500] [--seed 1] [--offline 2000] [--pretrain 300] [--noise X] [--threads 1]
//   [--gate] [--gate-tolerance 0.005]`
//
// Online learning under the shield, in process (no MQTT): thesis Algorithm 1's online phase.
// Both arms start from the same model and run the robot's scripted controller through the
// shield on the same episode seeds. The online arm feeds every executed transition (with the
// next executed action, a′ of the TD target) to the online learner and runs one critic and one
// recovery update per transition; every `--every` updates it exports a model, prepares it and
// swaps it in between episodes. The baseline arm never updates. `--start weak` pretrains a
// deliberately weak model (`--offline` transitions of D_offline, `--pretrain` steps);
// `--start shipped` starts from models/<robot>. For reference, the controller alone (unshielded)
// runs on the same seeds too. Both arms' replay buffer (the online arm's)
// is seeded with the same D_offline. `--gate` adds a fourth arm, **gated**: the same online
// learning, but at each export the learner's held-out AUROC (src/learn/online.ts evaluate():
// 10% of D_offline's episodes and every 10th online episode, never trained on) must not fall
// more than the tolerance below that of the version running (src/learn/quality-gate.ts); a
// refused version is not swapped in (the learner keeps training). Prints one JSON object;
// deterministic apart from timing.
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
import { episodeSeed } from '../src/cli/demo/episodes.js';
import { Shield } from '../src/inference/shield.js';
import { auroc } from '../src/learn/auroc.js';
import { defaultsFor } from '../src/learn/defaults.js';
import { trainOffline } from '../src/learn/offline.js';
import { createOnlineTrainer, type OnlineTrainer } from '../src/learn/online.js';
import { DEFAULT_GATE_TOLERANCE, gateDecision } from '../src/learn/quality-gate.js';
import { violationWithin } from '../src/learn/validation.js';

const { values } = parseArgs({
  options: {
    robot: { type: 'string', default: 'dvrk-reacher' },
    episodes: { type: 'string', default: '500' },
    start: { type: 'string', default: 'weak' },
    block: { type: 'string', default: '50' },
    every: { type: 'string', default: '500' },
    seed: { type: 'string', default: '1' },
    offline: { type: 'string', default: '2000' },
    pretrain: { type: 'string', default: '300' },
    noise: { type: 'string' },
    threads: { type: 'string', default: '1' },
    gate: { type: 'boolean', default: false },
    'gate-tolerance': { type: 'string', default: String(DEFAULT_GATE_TOLERANCE) },
  },
});
const robot = values.robot;
const episodes = Number(values.episodes);
const block = Number(values.block);
const every = Number(values.every);
const seed = Number(values.seed);
const offlineN = Number(values.offline);
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
async function heldOutAuroc(modelDir: string): Promise<number> {
  const card = await loadModelCard(modelDir);
  const s = await ort.InferenceSession.create(join(modelDir, card.critic.file), { intraOpNumThreads: threads });
  try {
    const feeds = {
      [card.critic.inputs.obs]: new ort.Tensor('float32', heldOut.obs.subarray(0, heldOut.size * spec.obsDim), [heldOut.size, spec.obsDim]),
      [card.critic.inputs.act]: new ort.Tensor('float32', heldOut.act.subarray(0, heldOut.size * spec.actDim), [heldOut.size, spec.actDim]),
    };
    const out = await s.run(feeds);
    return round(auroc(out[card.critic.output]!.data as Float32Array, heldLabels), 4);
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

interface GateStep {
  updates: number;
  auroc: number;
  reference: number;
  swapped: boolean;
}

/**
 * `trainer` null: the baseline (or, with `shielded` false, the controller alone). `gated`: swap
 * only versions that pass the quality gate; `finalDir` is then the last version swapped in.
 */
async function runArm(trainer: OnlineTrainer | null, shielded = true, gated = false): Promise<{ blocks: Block[]; updateSeconds: number; swaps: number; finalDir: string; gate: GateStep[] }> {
  const gate: GateStep[] = [];
  const env = createEnv(robot, { seed });
  const controller = createController(robot, { seed, noise });
  const shield = shielded ? await Shield.load({ modelDir: startDir, robot, threads: 1 }) : null;
  const blocks: Block[] = [];
  let updateSeconds = 0;
  let swaps = 0;
  let lastExport = 0;
  let finalDir = startDir;
  let b: Block | null = null;
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
  try {
    for (let ep = 0; ep < episodes; ep++) {
      if (ep % block === 0) {
        b = { episodes: [ep, Math.min(episodes, ep + block) - 1], successes: 0, violations: 0, interventions: 0, failsafes: 0, ticks: 0, meanQRiskTask: 0, meanQRisk: 0, models: [shield?.modelVersion ?? 'unshielded'] };
        qTask = qTaskN = qAll = qAllN = 0;
      }
      const cur = b!;
      const s = episodeSeed(seed, ep);
      let obs = env.reset(s);
      controller.reset(s);
      shield?.resetEpisode();
      let violated = false;
      let success = false;
      let pending: Transition | null = null;
      for (let step = 0; step < spec.horizon; step++) {
        const proposed = controller.act(obs);
        const d = shield === null ? { action: proposed, source: 'task', qRisk: Number.NaN } : await shield.decide(obs, proposed);
        const action = d.action.slice();
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
        // The previous transition is complete once its next executed action is known.
        if (pending !== null) await learn({ ...pending, nextAct: action });
        const r = env.step(action);
        if (r.violation) violated = true;
        success = r.success;
        pending = { obs, act: action, cost: r.violation ? 1 : 0, nextObs: r.obs, done: r.done, episode: ep, step };
        obs = r.obs;
        if (r.done) break;
      }
      if (pending !== null) await learn(pending);
      if (success) cur.successes++;
      if (violated) cur.violations++;
      // Between episodes: export, prepare and swap once `every` updates have accumulated.
      if (shield !== null && trainer !== null && trainer.updates - lastExport >= every) {
        lastExport = trainer.updates;
        let swapIt = true;
        if (gated) {
          const v = await trainer.evaluate();
          swapIt = gateDecision(v.auroc, v.reference, gateTolerance).publish;
          gate.push({ updates: trainer.updates, auroc: round(v.auroc, 4), reference: round(v.reference, 4), swapped: swapIt });
          if (swapIt) trainer.acceptCurrent();
        }
        if (swapIt) {
          const dir = join(tmp, `online-${trainer.updates}`);
          await trainer.exportModel(dir, `${robot}-online.${trainer.updates}`);
          await shield.swap(await Shield.prepare({ modelDir: dir, robot, threads: 1 }));
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
      }
    }
  } finally {
    await shield?.close();
  }
  // Updates since the last export also count: export the final state once more.
  if (trainer !== null && !gated && trainer.updates > lastExport) {
    finalDir = join(tmp, `online-${trainer.updates}`);
    await trainer.exportModel(finalDir, `${robot}-online.${trainer.updates}`);
  }
  return { blocks, updateSeconds, swaps, finalDir, gate };
}

function totals(blocks: readonly Block[]): Record<string, number> {
  const sum = (k: 'successes' | 'violations' | 'interventions' | 'failsafes' | 'ticks'): number => blocks.reduce((n, x) => n + x[k], 0);
  const s = sum('successes');
  const v = sum('violations');
  return { episodes, successes: s, violations: v, ratio: round((s + 1) / (v + 1), 3), interventions: sum('interventions'), failsafes: sum('failsafes'), ticks: sum('ticks') };
}

try {
  const startAuroc = await heldOutAuroc(startDir);
  const startVersion = (await loadModelCard(startDir)).version;
  const unshielded = await runArm(null, false);
  const baseline = await runArm(null);
  const trainer = await createOnlineTrainer({ robot, modelDir: startDir, data: [offlinePath], seed, threads });
  let online;
  try {
    online = await runArm(trainer);
  } finally {
    await trainer.release();
  }
  const finalAuroc = await heldOutAuroc(online.finalDir);
  let gatedArm;
  let gatedAuroc: number | null = null;
  if (values.gate) {
    const t2 = await createOnlineTrainer({ robot, modelDir: startDir, data: [offlinePath], seed, threads });
    try {
      gatedArm = await runArm(t2, true, true);
    } finally {
      await t2.release();
    }
    gatedAuroc = await heldOutAuroc(gatedArm.finalDir);
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
        online: { blocks: online.blocks, totals: totals(online.blocks), updates, swaps: online.swaps },
        ...(gatedArm === undefined
          ? {}
          : { gated: { blocks: gatedArm.blocks, totals: totals(gatedArm.blocks), updates: gatedArm.blocks.at(-1)?.updates ?? 0, swaps: gatedArm.swaps, refused: gatedArm.gate.filter((g) => !g.swapped).length, gateTolerance, gate: gatedArm.gate } }),
        updatesPerSecond: round(updates / online.updateSeconds, 1),
        // aurocGated: the last version the gated arm swapped in (the start model if none passed).
        heldOut: { transitions: heldOut.size, positives: heldLabels.reduce((n, l) => n + l, 0), aurocStart: startAuroc, aurocFinal: finalAuroc, ...(gatedArm === undefined ? {} : { aurocGated: gatedAuroc }) },
      },
      null,
      2,
    ),
  );
} finally {
  await rm(tmp, { recursive: true, force: true });
}
