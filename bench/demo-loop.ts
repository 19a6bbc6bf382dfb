// `npm run bench -- demo-loop [--robot dvrk-reacher] [--episodes 100] [--rounds 2]
//   [--settings W/I,W/I,…]`: the unpaced demo's tick loop without its recording (the shipped
// model shielding the scripted controller, back to back with the environment step), under the
// inference worker's wait settings W/I = worker spin after an answer / I/O spin on the answer
// (µs). Rounds interleave the settings. Per run: tick p50 / p99 / max (µs, timed around
// `decide`) and how many ticks found the worker asleep. Prints one JSON object
// (docs/shield.md, "The demo's tail").
import { parseArgs } from 'node:util';
import { createController, createEnv } from '../src/envs/index.js';
import { shippedModelDir } from '../src/models/shipped-models.js';
import { Shield } from '../src/inference/shield.js';

const { values } = parseArgs({
  options: {
    robot: { type: 'string', default: 'dvrk-reacher' },
    episodes: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '2' },
    settings: { type: 'string', default: '1000/200,50/200,1000/0,50/0,0/0' },
  },
});
const robot = values.robot;
const episodes = Number(values.episodes);
const rounds = Number(values.rounds);
const settings = values.settings.split(',').map((s) => {
  const [w, i] = s.split('/').map(Number);
  if (!(Number.isFinite(w) && Number.isFinite(i))) throw new Error(`--settings: '${s}' is not W/I (µs)`);
  return { workerSpinUs: w!, spinUs: i! };
});
const pct = (sorted: number[], p: number): number => Number(sorted[Math.floor(p * (sorted.length - 1))]!.toFixed(1));

async function run(s: { workerSpinUs: number; spinUs: number }) {
  const shield = await Shield.load({ modelDir: shippedModelDir(robot), robot, deadlineUs: 50_000, ...s });
  const env = createEnv(robot, { seed: 1 });
  const controller = createController(robot, { seed: 1 });
  const ticks: number[] = [];
  let afterSleep = 0;
  try {
    for (let ep = 0; ep < episodes; ep++) {
      let obs = env.reset();
      for (;;) {
        const slept = shield.wakeStats()?.slept ?? 0;
        const t0 = performance.now();
        const d = await shield.decide(obs, controller.act(obs));
        ticks.push((performance.now() - t0) * 1000);
        if ((shield.wakeStats()?.slept ?? 0) > slept) afterSleep++;
        const r = env.step(Float32Array.from(d.action));
        obs = r.obs;
        if (r.done) break;
      }
    }
  } finally {
    await shield.close();
    env.close?.();
  }
  const sorted = [...ticks].sort((a, b) => a - b);
  return { ...s, ticks: ticks.length, p50Us: pct(sorted, 0.5), p99Us: pct(sorted, 0.99), maxUs: Number(sorted.at(-1)!.toFixed(1)), ticksAfterWorkerSlept: afterSleep };
}

const runs = [];
for (let r = 0; r < rounds; r++) for (const s of settings) runs.push({ round: r, ...(await run(s)) });
console.log(JSON.stringify({ scenario: 'demo-loop', robot, episodes, rounds, runs }, null, 1));
