// `npm run bench -- learn [--robot nav1] [--threads 2] [--warmup 400] [--steps 1500] [--seed 1]`:
// environment steps per second of the full online Recovery RL loop (src/learn/recovery-rl):
// per step one SAC update (twin Q + policy + target, batch 256) and one safety critic +
// recovery update (batch 256), the task policy's action, the shield core's decision and the
// simulated robot's step. Timed after `warmup` steps, once both buffers hold more than a batch
// so every step runs both updates. Prints one JSON object; target ≥ 100 steps/s on 2 threads.
import { parseArgs } from 'node:util';
import { simulatedRobot } from '../src/envs/index.js';
import { OnlineLoop, defaultLoopSettings } from '../src/learn/recovery-rl/online-loop.js';

const { values } = parseArgs({
  options: {
    robot: { type: 'string', default: 'nav1' },
    threads: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '400' },
    steps: { type: 'string', default: '1500' },
    seed: { type: 'string', default: '1' },
  },
});
const robot = values.robot;
const threads = Number(values.threads);
const warmup = Number(values.warmup);
const measure = Number(values.steps);

const t0 = performance.now();
const loop = await OnlineLoop.start({ robot, algo: 'recovery-rl', seed: Number(values.seed), episodes: 1_000_000, ablations: [], threads }, defaultLoopSettings, simulatedRobot(robot));
const startSeconds = (performance.now() - t0) / 1000;
let episodes = 0;
let successes = 0;
let violations = 0;
let recoverySteps = 0;
while (loop.steps < warmup) await loop.episode();
const from = loop.steps;
const before = { ...loop.time };
const t1 = performance.now();
while (loop.steps < from + measure) {
  const r = await loop.episode();
  episodes++;
  if (r.success) successes++;
  if (r.violation) violations++;
  recoverySteps += r.recoverySteps;
}
const seconds = (performance.now() - t1) / 1000;
const steps = loop.steps - from;
const perStep = (k: keyof typeof before): number => Number(((loop.time[k] - before[k]) / steps).toFixed(3));
await loop.close();
console.log(JSON.stringify({
  scenario: 'learn',
  robot,
  threads,
  batch: defaultLoopSettings.batch,
  criticOrigin: loop.criticOrigin,
  startSeconds: Number(startSeconds.toFixed(2)),
  timedSteps: steps,
  timedEpisodes: episodes,
  seconds: Number(seconds.toFixed(2)),
  stepsPerSecond: Number((steps / seconds).toFixed(1)),
  msPerStep: Number(((seconds * 1000) / steps).toFixed(2)),
  targetStepsPerSecond: 100,
  // Where a step's time goes (ms): the two updates, the task action + shield decision, the robot.
  msPerStepParts: { sacUpdate: perStep('sacUpdate'), safetyUpdate: perStep('safetyUpdate'), decide: perStep('decide'), env: perStep('env') },
  timed: { successes, violations, recoverySteps },
}, null, 2));
