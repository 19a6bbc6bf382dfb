// `npm run bench -- learn-curve [--robot nav1] [--algo recovery-rl,unconstrained] [--episodes 25]
// [--seed 1] [--threads 2] [--policy-out DIR]`: a short learning-curve sanity check. Each algorithm of the registry
// (src/learn/algorithms) runs `episodes` episodes from the seed; a uniform random policy runs on
// the same episode seeds for reference. Per arm: successes, violating episodes, steps under
// recovery, mean return of the first and last fifth of the episodes, and one character per
// episode (S success, V violation, . neither). Prints one JSON object. With --policy-out, each
// algorithm's final SAC policy is written to DIR/<robot>-<algo>.onnx (for `rshield run --policy`).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { episodeSeed } from '../src/core/episode-runner.js';
import { Rng } from '../src/core/rng.js';
import { createEnv, simulatedRobot } from '../src/envs/index.js';
import { findAlgorithm } from '../src/app/experiment/registry.js';
import type { EpisodeResult } from '../src/learn/algorithm.js';
import { OnlineLoop } from '../src/learn/recovery-rl/online-loop.js';

const { values } = parseArgs({
  options: {
    robot: { type: 'string', default: 'nav1' },
    algo: { type: 'string', default: 'recovery-rl,unconstrained' },
    episodes: { type: 'string', default: '25' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    'policy-out': { type: 'string' },
  },
});
const robot = values.robot;
const episodes = Number(values.episodes);
const seed = Number(values.seed);

function summary(rs: readonly EpisodeResult[], seconds: number): Record<string, unknown> {
  const fifth = Math.max(1, Math.floor(rs.length / 5));
  const mean = (xs: readonly EpisodeResult[]): number => Number((xs.reduce((n, r) => n + r.return, 0) / xs.length).toFixed(1));
  return {
    successes: rs.filter((r) => r.success).length,
    violations: rs.filter((r) => r.violation).length,
    recoverySteps: rs.reduce((n, r) => n + r.recoverySteps, 0),
    meanReturnFirst: mean(rs.slice(0, fifth)),
    meanReturnLast: mean(rs.slice(-fifth)),
    episodes: rs.map((r) => (r.success ? 'S' : r.violation ? 'V' : '.')).join(''),
    seconds: Number(seconds.toFixed(1)),
  };
}

const arms: Record<string, unknown> = {};
{
  const env = createEnv(robot, { seed });
  const rng = new Rng(seed);
  const { actLow, actHigh, horizon } = env.spec;
  const a = new Float32Array(env.spec.actDim);
  const rs: EpisodeResult[] = [];
  for (let ep = 0; ep < episodes; ep++) {
    env.reset(episodeSeed(seed, ep));
    let ret = 0;
    let violation = false;
    let success = false;
    let steps = 0;
    for (let t = 0; t < horizon; t++) {
      for (let j = 0; j < a.length; j++) a[j] = rng.uniform(actLow[j]!, actHigh[j]!);
      const r = env.step(a);
      steps++;
      ret += r.reward;
      violation ||= r.violation;
      success = r.success;
      if (r.done) break;
    }
    rs.push({ episode: ep, success, violation, steps, recoverySteps: 0, recoveryViolation: false, return: ret });
  }
  arms.random = summary(rs, 0);
}
for (const name of values.algo.split(',')) {
  const t0 = performance.now();
  const run = await findAlgorithm(name).start({ robot, algo: name, seed, episodes, ablations: [], threads: Number(values.threads) }, simulatedRobot(robot));
  const rs: EpisodeResult[] = [];
  try {
    for (let i = 0; i < episodes; i++) rs.push(await run.episode());
    const out = values['policy-out'];
    if (out !== undefined && run instanceof OnlineLoop) await run.taskPolicy.writePolicy(join(out, `${robot}-${name}.onnx`));
  } finally {
    await run.close();
  }
  arms[name] = summary(rs, (performance.now() - t0) / 1000);
}
console.log(JSON.stringify({ scenario: 'learn-curve', robot, episodes, seed, arms }, null, 2));
