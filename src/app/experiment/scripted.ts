/**
 * The robot's scripted controller (the "existing controller" of `rshield demo`) as experiment
 * algorithms: unshielded, and under the shield with the shipped model for the robot, frozen.
 * Nothing learns; they are the reference lines a learning algorithm is compared against.
 */
import { runEpisode, type EpisodeOutcome } from '../../core/episode-runner.js';
import { createController, createEnv, prepareRobot } from '../../envs/index.js';
import { Shield } from '../../inference/shield.js';
import { shippedModelDir } from '../../models/shipped-models.js';
import type { Algorithm, AlgorithmRun, EpisodeResult, RunSpec } from '../../learn/algorithm.js';

/**
 * Tick deadline of the shield in an experiment: episodes are not paced in real time, and a
 * decision late because the machine is busy (other runs) would publish the fail-safe and make
 * a seed's result depend on the load. 10 s still catches a model that hangs.
 */
export const EXPERIMENT_DEADLINE_US = 10_000_000;

/** The contract's episode line from what the episode runner reports. */
export function episodeResult(episode: number, e: EpisodeOutcome): EpisodeResult {
  return {
    episode,
    success: e.success,
    violation: e.violation,
    steps: e.steps,
    recoverySteps: e.interventions,
    recoveryViolation: e.recoveryViolation,
    return: e.return,
  };
}

async function startScripted(spec: RunSpec, shielded: boolean): Promise<AlgorithmRun> {
  await prepareRobot(spec.robot);
  const env = createEnv(spec.robot, { seed: spec.seed });
  const controller = createController(spec.robot, { seed: spec.seed });
  const shield = shielded ? await Shield.load({ modelDir: shippedModelDir(spec.robot), robot: spec.robot, threads: spec.threads, deadlineUs: EXPERIMENT_DEADLINE_US }) : undefined;
  let next = 0;
  return {
    async episode() {
      const ep = next++;
      return episodeResult(ep, await runEpisode({ env, controller, seed: spec.seed, ...(shield === undefined ? {} : { shield }) }, ep));
    },
    close: async () => {
      env.close?.();
      await shield?.close();
    },
  };
}

export const scripted: Algorithm = {
  name: 'scripted',
  summary: "the robot's scripted controller, unshielded",
  ablations: [],
  start: (spec) => startScripted(spec, false),
};

export const scriptedShielded: Algorithm = {
  name: 'scripted-shielded',
  summary: 'the scripted controller under the shield with the shipped model, frozen',
  ablations: [],
  start: (spec) => startScripted(spec, true),
};
