// Steps per second of every simulated robot, single thread, driven by its scripted controller
// (MuJoCo robots: mujoco-js). Also: the WebAssembly heap and RSS over many MuJoCo episodes
// (build, reset, a few steps, close), which must stay flat. JSON out.
// Usage: npm run bench -- envs [--seconds S] [--episodes N]
import { parseArgs } from 'node:util';
import { createController, createEnv, isMujocoRobot, prepareRobot, robotNames } from '../src/envs/index.js';
import { MujocoSim } from '../src/envs/mujoco/mujoco-sim.js';
import { mazeMjcf } from '../src/envs/mujoco/maze/maze-mjcf.js';
import { loadMujoco } from '../src/envs/mujoco/runtime.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1.5' }, episodes: { type: 'string', default: '10000' } } });
const seconds = Number(values.seconds);
const episodes = Number(values.episodes);

function stepsPerSecond(robot: string): { stepsPerS: number; median: number[] } {
  const env = createEnv(robot, { seed: 1 });
  const ctrl = createController(robot, { seed: 1 });
  const rates: number[] = [];
  let obs = env.reset();
  for (let rep = 0; rep < 3; rep++) {
    let steps = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (seconds * 1000) / 3) {
      const r = env.step(ctrl.act(obs));
      steps++;
      if (r.done) {
        ctrl.reset();
        obs = env.reset();
      } else obs = r.obs;
    }
    rates.push(steps / ((performance.now() - t0) / 1000));
  }
  env.close?.();
  rates.sort((a, b) => a - b);
  return { stepsPerS: Math.round(rates[1]!), median: rates.map(Math.round) };
}

const rt = await loadMujoco();
const robots: Record<string, { stepsPerS: number; mujoco: boolean }> = {};
for (const robot of robotNames) {
  await prepareRobot(robot);
  // Warm-up: the WebAssembly code is tiered up while it runs, so the first robot would pay for it.
  stepsPerSecond(robot);
  robots[robot] = { stepsPerS: stepsPerSecond(robot).stepsPerS, mujoco: isMujocoRobot(robot) };
}

// mj_step of the maze model alone: the per-substep cost the maze's 500 substeps multiply.
const sim = new MujocoSim(rt, 'maze-mujoco', mazeMjcf(), 1);
sim.resetData();
sim.ctrl[0] = 0.05;
const N = 200_000;
let t0 = performance.now();
for (let i = 0; i < N; i++) sim.step(1);
const mazeSubstepUs = ((performance.now() - t0) * 1000) / N;
sim.close();

// Memory over many episodes: each builds a maze-mujoco env, resets, steps 3 times and closes it.
const mem = (): { heapBytes: number; rssMB: number } => {
  const probe = new MujocoSim(rt, 'probe', mazeMjcf(), 1);
  const heapBytes = probe.heapBytes();
  probe.close();
  return { heapBytes, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) };
};
for (let i = 0; i < 200; i++) {
  const env = createEnv('maze-mujoco', { seed: i });
  env.close?.();
}
const before = mem();
t0 = performance.now();
for (let e = 0; e < episodes; e++) {
  const env = createEnv('maze-mujoco', { seed: e });
  env.reset();
  for (let k = 0; k < 3; k++) env.step([0.1, 0.05]);
  env.close?.();
}
const after = mem();

console.log(
  JSON.stringify(
    {
      scenario: 'envs',
      mujoco: rt.version,
      seconds,
      robots,
      mazeSubstepUs: Number(mazeSubstepUs.toFixed(3)),
      memory: { episodes, before, after, heapGrowthBytes: after.heapBytes - before.heapBytes, rssGrowthMB: after.rssMB - before.rssMB, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) },
    },
    null,
    2,
  ),
);
