// Steps per second of every simulated robot, single thread, driven by its scripted controller
// (MuJoCo robots: mujoco-js). Also: the WebAssembly heap and RSS over many MuJoCo episodes
// (build, reset, a few steps, close), which must stay flat. JSON out.
// With --native DIR (a MuJoCo install: DIR/usr/include/mujoco and DIR/usr/lib/*/libmujoco.so,
// e.g. Debian's libmujoco-dev unpacked with `apt-get download` + `dpkg -x`), each MuJoCo model is
// also stepped by native MuJoCo from the same state and controls (bench/native/mj-step.c, gcc).
// Usage: npm run bench -- envs [--seconds S] [--episodes N] [--native DIR]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createController, createEnv, isMujocoBacked, isMujocoRobot, prepareRobot, robotNames } from '../src/envs/index.js';
import { MujocoSim } from '../src/envs/mujoco/mujoco-sim.js';
import { mazeMjcf } from '../src/envs/mujoco/maze/maze-mjcf.js';
import { loadMujoco } from '../src/envs/mujoco/runtime.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1.5' }, episodes: { type: 'string', default: '10000' }, native: { type: 'string' } } });
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

/**
 * µs per mj_step of every MuJoCo robot's model from a mid-episode state (its controller's
 * 5th step), in WebAssembly and, with --native, in native MuJoCo from the same state.
 */
function substeps(nativeDir: string | undefined): Record<string, { wasmUs: number; nativeUs?: number; nativeVersion?: string; nativeError?: string; ratio?: number }> {
  const out: Record<string, { wasmUs: number; nativeUs?: number; nativeVersion?: string; nativeError?: string; ratio?: number }> = {};
  const dir = mkdtempSync(join(tmpdir(), 'rshield-bench-envs-'));
  try {
    let exe: string | undefined;
    let libDir = '';
    if (nativeDir !== undefined) {
      const lib = readdirSync(join(nativeDir, 'usr/lib'), { withFileTypes: true }).find((e) => e.isDirectory() && readdirSync(join(nativeDir, 'usr/lib', e.name)).includes('libmujoco.so'));
      libDir = lib === undefined ? join(nativeDir, 'usr/lib') : join(nativeDir, 'usr/lib', lib.name);
      exe = join(dir, 'mj-step');
      const src = join(dirname(fileURLToPath(import.meta.url)), 'native/mj-step.c');
      execFileSync('gcc', ['-O2', '-o', exe, src, '-I', join(nativeDir, 'usr/include'), '-L', libDir, '-lmujoco', `-Wl,-rpath,${libDir}`]);
    }
    for (const robot of robotNames.filter(isMujocoRobot)) {
      const env = createEnv(robot, { seed: 1 });
      const ctrl = createController(robot, { seed: 1 });
      let obs = env.reset();
      for (let k = 0; k < 5; k++) obs = env.step(ctrl.act(obs)).obs;
      if (!isMujocoBacked(env)) throw new Error(`${robot} is not MuJoCo-backed`);
      const s = env.simulation;
      const qpos = Float64Array.from(s.qpos);
      const ctrls = Float64Array.from(s.ctrl);
      const probe = new MujocoSim(rt, robot, s.xml, 1);
      env.close?.();
      const N = 20_000;
      const run = (): number => {
        probe.resetData();
        probe.qpos.set(qpos);
        probe.ctrl.set(ctrls);
        probe.forward();
        probe.step(N / 10);
        const t = performance.now();
        probe.step(N);
        return ((performance.now() - t) * 1000) / N;
      };
      const wasmUs = [run(), run(), run()].sort((a, b) => a - b)[1]!;
      probe.close();
      const row: (typeof out)[string] = { wasmUs: Number(wasmUs.toFixed(3)) };
      if (exe !== undefined) {
        writeFileSync(join(dir, `${robot}.xml`), s.xml);
        writeFileSync(join(dir, `${robot}.txt`), [...qpos, ...ctrls].join('\n'));
        try {
          const runs = [0, 1, 2].map(() => JSON.parse(execFileSync(exe, [join(dir, `${robot}.xml`), join(dir, `${robot}.txt`), String(N)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LD_LIBRARY_PATH: [libDir, process.env['LD_LIBRARY_PATH'] ?? ''].join(':') } })) as { version: string; usPerStep: number });
          const us = runs.map((r) => r.usPerStep).sort((a, b) => a - b)[1]!;
          Object.assign(row, { nativeUs: Number(us.toFixed(3)), nativeVersion: runs[0]!.version, ratio: Number((wasmUs / us).toFixed(2)) });
        } catch (err) {
          row.nativeError = ((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n')[0]!;
        }
      }
      out[robot] = row;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
const mjStep = substeps(values.native);

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
      mjStep,
      memory: { episodes, before, after, heapGrowthBytes: after.heapBytes - before.heapBytes, rssGrowthMB: after.rssMB - before.rssMB, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) },
    },
    null,
    2,
  ),
);
