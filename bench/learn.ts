// `npm run bench -- learn [--robot nav1] [--threads 2] [--warmup 400] [--steps 1500] [--seed 1]
//   [--mode overlapped|sequential|sequential,overlapped] [--rounds 1]`:
// environment steps per second of the full online Recovery RL loop (src/learn/recovery-rl):
// per step one SAC update (twin Q + policy + target, batch 256) and one safety critic +
// recovery update (batch 256), the task policy's action, the shield core's decision and the
// simulated robot's step. Timed after `warmup` steps, once both buffers hold more than a batch
// so every step runs both updates. `--mode` takes the update modes (LoopSettings.updates) to
// time, a comma list run in turn `--rounds` times (interleaved: compare them within one run);
// each run is a fresh loop. Prints one JSON object; target ≥ 100 steps/s on 2 threads.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { simulatedRobot } from '../src/envs/index.js';
import { OnlineLoop, defaultLoopSettings, type UpdateMode } from '../src/learn/recovery-rl/online-loop.js';

const { values } = parseArgs({
  options: {
    robot: { type: 'string', default: 'nav1' },
    threads: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '400' },
    steps: { type: 'string', default: '1500' },
    seed: { type: 'string', default: '1' },
    mode: { type: 'string', default: defaultLoopSettings.updates ?? 'sequential' },
    rounds: { type: 'string', default: '1' },
  },
});
const robot = values.robot;
const threads = Number(values.threads);
const warmup = Number(values.warmup);
const measure = Number(values.steps);
const rounds = Number(values.rounds);
const modes = values.mode.split(',');
for (const m of modes) {
  if (m !== 'sequential' && m !== 'overlapped') {
    console.error(`--mode: '${m}' is not an update mode (sequential, overlapped)`);
    process.exit(2);
  }
}
const load = (): number => Number(loadavg()[0]!.toFixed(2));

async function run(mode: UpdateMode) {
  const loadBefore = load();
  const t0 = performance.now();
  const settings = { ...defaultLoopSettings, updates: mode };
  const loop = await OnlineLoop.start({ robot, algo: 'recovery-rl', seed: Number(values.seed), episodes: 1_000_000, ablations: [], threads }, settings, simulatedRobot(robot));
  const startSeconds = (performance.now() - t0) / 1000;
  let episodes = 0;
  let successes = 0;
  let violations = 0;
  let recoverySteps = 0;
  try {
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
    return {
      mode: loop.updateMode,
      loadAverage1m: { before: loadBefore, after: load() },
      criticOrigin: loop.criticOrigin,
      startSeconds: Number(startSeconds.toFixed(2)),
      timedSteps: steps,
      timedEpisodes: episodes,
      seconds: Number(seconds.toFixed(2)),
      stepsPerSecond: Number((steps / seconds).toFixed(1)),
      msPerStep: Number(((seconds * 1000) / steps).toFixed(2)),
      // Where a step's time goes (ms): the two updates (overlapped: each from the start of the
      // step's updates, `updates` their wall time together), the task action + shield decision, the robot.
      msPerStepParts: { sacUpdate: perStep('sacUpdate'), safetyUpdate: perStep('safetyUpdate'), updates: perStep('updates'), decide: perStep('decide'), env: perStep('env') },
      timed: { successes, violations, recoverySteps },
    };
  } finally {
    await loop.close();
  }
}

const runs: Awaited<ReturnType<typeof run>>[] = [];
for (let r = 0; r < rounds; r++) for (const m of modes) runs.push(await run(m as UpdateMode));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const header = { scenario: 'learn', robot, threads, batch: defaultLoopSettings.batch, targetStepsPerSecond: 100 };
if (runs.length === 1) console.log(JSON.stringify({ ...header, ...runs[0] }, null, 2));
else {
  const medianStepsPerSecond = Object.fromEntries(modes.map((m, i) => [m, Number(median(runs.filter((_, j) => j % modes.length === i).map((r) => r.stepsPerSecond)).toFixed(1))]));
  console.log(JSON.stringify({ ...header, rounds, medianStepsPerSecond, runs }, null, 2));
}
