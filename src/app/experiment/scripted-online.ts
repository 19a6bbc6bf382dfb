/**
 * The scripted controller under the shield while the critic and recovery policy keep learning
 * (src/learn/online.ts: one critic + recovery update per executed transition, D_offline in the
 * replay buffer). As the companion trainer does, a new version is exported every
 * EXPORT_EVERY updates and swapped in between episodes only when it passes the quality gate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEpisode } from '../../core/episode-runner.js';
import type { Transition } from '../../core/types.js';
import { TransitionColumns, TransitionWriter, specMeta } from '../../data/index.js';
import { createController, createEnv, generateOfflineData, generatorInfo, prepareRobot } from '../../envs/index.js';
import { Shield } from '../../inference/shield.js';
import { shippedModelDir } from '../../models/shipped-models.js';
import { createOnlineTrainer } from '../../learn/online.js';
import { DEFAULT_GATE_TOLERANCE, gateDecision } from '../../learn/quality-gate.js';
import type { Algorithm, AlgorithmRun, RunSpec } from '../../learn/algorithm.js';
import { ablationValue } from './ablations.js';
import { EXPERIMENT_DEADLINE_US, episodeResult } from './scripted.js';

/** Online updates between exported versions (as `npm run bench -- online`). */
const EXPORT_EVERY = 500;
/** |D_offline| without `offline-size`: the reference's num_unsafe_transitions. */
const DEFAULT_OFFLINE_SIZE = 10_000;

function writeOffline(path: string, robot: string, n: number, seed: number): void {
  const probe = createEnv(robot, { seed });
  const { spec } = probe;
  probe.close?.();
  const w = TransitionWriter.open(path, { ...specMeta(spec), generator: generatorInfo(robot).name, seed, requested: n, params: {} });
  try {
    for (const t of generateOfflineData(robot, { seed, transitions: n })) w.write(t);
  } finally {
    w.close();
  }
}

async function startOnline(spec: RunSpec): Promise<AlgorithmRun> {
  const has = (a: string): boolean => spec.ablations.some((x) => x === a || x.startsWith(`${a}=`));
  const offlineSize = ablationValue(spec.ablations, 'offline-size') ?? DEFAULT_OFFLINE_SIZE;
  // offline-size: pretrain on that much D_offline (thesis Fig. 7) instead of the shipped model,
  // which was pretrained on its own data; no-pretraining: start from untrained networks.
  const fromShipped = !has('no-pretraining') && ablationValue(spec.ablations, 'offline-size') === undefined;
  const learn = !has('no-online');
  await prepareRobot(spec.robot);
  const tmp = await mkdtemp(join(tmpdir(), 'rshield-experiment-'));
  try {
    const offlinePath = join(tmp, 'offline.mcap');
    writeOffline(offlinePath, spec.robot, offlineSize, spec.seed ^ 0x0ff1);
    const trainer = await createOnlineTrainer({
      robot: spec.robot, data: [offlinePath], seed: spec.seed, threads: spec.threads,
      ...(fromShipped ? { modelDir: shippedModelDir(spec.robot) } : {}),
      ...(has('no-pretraining') ? { steps: 0 } : {}),
    });
    let shield: Shield;
    try {
      let startDir = shippedModelDir(spec.robot);
      if (!fromShipped) {
        startDir = join(tmp, 'start');
        await trainer.exportModel(startDir, `${spec.robot}-experiment.0`);
      }
      shield = await Shield.load({ modelDir: startDir, robot: spec.robot, threads: spec.threads, deadlineUs: EXPERIMENT_DEADLINE_US });
    } catch (err) {
      await trainer.release();
      throw err;
    }
    const env = createEnv(spec.robot, { seed: spec.seed });
    const controller = createController(spec.robot, { seed: spec.seed });
    const one = TransitionColumns.fixed(env.spec.obsDim, env.spec.actDim, 1);
    const onTransition = async (t: Transition): Promise<void> => {
      one.clear();
      one.push(t);
      trainer.addTransitions(one);
      await trainer.update(1);
    };
    let next = 0;
    let lastExport = 0;
    return {
      async episode() {
        const ep = next++;
        const e = await runEpisode({ env, controller, seed: spec.seed, shield, ...(learn ? { onTransition } : {}) }, ep);
        if (learn && trainer.updates - lastExport >= EXPORT_EVERY) {
          lastExport = trainer.updates;
          const score = await trainer.evaluate();
          if (gateDecision(score.auroc, score.reference, DEFAULT_GATE_TOLERANCE).publish) {
            trainer.acceptCurrent();
            const dir = join(tmp, `online-${trainer.updates}`);
            await trainer.exportModel(dir, `${spec.robot}-experiment.${trainer.updates}`);
            await shield.swap(await shield.prepare(dir));
          }
        }
        return episodeResult(ep, e);
      },
      async close() {
        try {
          env.close?.();
          await shield.close();
          await trainer.release();
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export const scriptedOnline: Algorithm = {
  name: 'scripted-online',
  summary: 'the scripted controller shielded, critic and recovery learning online (src/learn/online.ts), gated versions swapped in',
  ablations: ['no-pretraining', 'no-online', 'offline-size'],
  start: startOnline,
};
