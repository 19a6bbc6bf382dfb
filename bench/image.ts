// `npm run bench -- image [--robot R] [--models DIR] [--frames N] [--ticks N] [--swaps N]`: an image
// model's two costs on this machine (DESIGN.md decision 10): the encoder per camera frame
// (pushFrame: check, rgb copy, encoder run) and the tick (decide: the heads on the newest latent),
// p50/p99 in µs, and the RSS of the process holding the shield. Budgets: tick p99 ≤ 150 µs, encoder
// p99 ≤ 10 ms per 64×64 frame on CPU, RSS ≤ 250 MB. Frames are rendered before the timed loops.
// With --swaps N, then N hot-swaps of the same model directory while ticks run every ~1 ms:
// prepare and swap times (ms), the ticks during the swaps (µs, fail-safes) and RSS after them.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cameraOf, createController, createEnv, hasCamera } from '../src/envs/index.js';
import type { ImageFrame } from '../src/core/image-frame.js';
import { ImageShield } from '../src/inference/image-shield.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const robot = opt('robot') ?? 'image-maze';
const modelDir = opt('models') ?? join(import.meta.dirname, '..', 'models', robot);
const nFrames = Number(opt('frames') ?? 500);
const nTicks = Number(opt('ticks') ?? 20000);
const nSwaps = Number(opt('swaps') ?? 0);
const camera = cameraOf(robot);
if (camera === null) throw new Error(`${robot} has no camera`);

const quantile = (xs: number[], q: number): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const us = (x: number): number => Number(x.toFixed(1));

const rssStart = process.memoryUsage().rss;
const shield = await ImageShield.load({ modelDir, robot, imageStaleAfterMs: 10_000 });
const rssLoaded = process.memoryUsage().rss;

// Inputs outside the timed part: states of real episodes and their frames.
const env = createEnv(robot, { seed: 1 });
const ctrl = createController(robot, { seed: 1 });
if (!hasCamera(env)) throw new Error(`${robot} env has no camera`);
const states: Float32Array[] = [];
const proposals: Float32Array[] = [];
const frames: ImageFrame[] = [];
let obs = env.reset(1);
for (let i = 0; states.length < Math.max(nFrames, 200); i++) {
  states.push(obs);
  proposals.push(ctrl.act(obs).slice());
  frames.push(env.frame(0));
  const r = env.step(proposals.at(-1)!);
  obs = r.done ? env.reset(i + 2) : r.obs;
}

// Encoder: one frame at a time, as a camera delivers them.
for (let i = 0; i < 50; i++) await shield.pushFrame({ ...frames[i % frames.length]!, stampMs: Date.now() });
const enc: number[] = [];
for (let i = 0; i < nFrames; i++) {
  const f = frames[i % frames.length]!;
  const stamped = { ...f, stampMs: Date.now() };
  const t0 = performance.now();
  await shield.pushFrame(stamped);
  enc.push((performance.now() - t0) * 1000);
}

// Ticks: heads only, on the latest latent (one frame encoded per 30 ticks, outside the timing).
const tick: number[] = [];
for (let i = 0; i < 1000; i++) await shield.decide(states[i % states.length]!, proposals[i % states.length]!);
shield.model.frameStats();
const before = shield.stats();
for (let i = 0; i < nTicks; i++) {
  if (i % 30 === 0) await shield.pushFrame({ ...frames[(i / 30) % frames.length]!, stampMs: Date.now() });
  const k = i % states.length;
  const t0 = performance.now();
  await shield.decide(states[k]!, proposals[k]!);
  tick.push((performance.now() - t0) * 1000);
}
const after = shield.stats();
const rssEnd = process.memoryUsage().rss;

// Hot-swaps beside ticks paced at ~1 kHz (a frame every 10 ticks, as a 100 Hz camera).
const prepMs: number[] = [];
const swapMs: number[] = [];
const swapTicks: number[] = [];
const beforeSwaps = shield.stats();
if (nSwaps > 0) {
  let stop = false;
  const ticking = (async () => {
    for (let i = 0; !stop; i++) {
      if (i % 10 === 0) void shield.pushFrame({ ...frames[i % frames.length]!, stampMs: Date.now() });
      const k = i % states.length;
      const t0 = performance.now();
      await shield.decide(states[k]!, proposals[k]!);
      swapTicks.push((performance.now() - t0) * 1000);
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  for (let n = 0; n < nSwaps; n++) {
    const t0 = performance.now();
    const next = await shield.prepare(modelDir);
    const t1 = performance.now();
    await shield.swap(next);
    prepMs.push(t1 - t0);
    swapMs.push(performance.now() - t1);
  }
  stop = true;
  await ticking;
}
const afterSwaps = shield.stats();
const rssSwaps = process.memoryUsage().rss;
await shield.close();
const ms = (x: number): number => Number(x.toFixed(2));
const swapFailsafes: Record<string, number> = {};
for (const [r, n] of Object.entries(afterSwaps.failsafesByReason)) {
  const d = n - (beforeSwaps.failsafesByReason as Record<string, number>)[r]!;
  if (d > 0) swapFailsafes[r] = d;
}

console.log(JSON.stringify({
  scenario: 'image',
  robot,
  model: shield.modelVersion,
  camera: { width: camera.width, height: camera.height, encoding: camera.encoding },
  modelInput: shield.card.image?.input,
  encoderUs: { frames: nFrames, p50: us(quantile(enc, 0.5)), p99: us(quantile(enc, 0.99)), max: us(Math.max(...enc)) },
  tickUs: { ticks: nTicks, p50: us(quantile(tick, 0.5)), p99: us(quantile(tick, 0.99)), max: us(Math.max(...tick)) },
  failsafes: after.failsafes - before.failsafes,
  rssMB: { start: Math.round(rssStart / 2 ** 20), loaded: Math.round(rssLoaded / 2 ** 20), end: Math.round(rssEnd / 2 ** 20) },
  ...(nSwaps > 0
    ? {
        swaps: {
          swaps: nSwaps,
          prepareMs: { p50: ms(quantile(prepMs, 0.5)), max: ms(Math.max(...prepMs)) },
          swapMs: { p50: ms(quantile(swapMs, 0.5)), max: ms(Math.max(...swapMs)) },
          tickUs: { ticks: swapTicks.length, p50: us(quantile(swapTicks, 0.5)), p99: us(quantile(swapTicks, 0.99)), max: us(Math.max(...swapTicks)) },
          failsafes: afterSwaps.failsafes - beforeSwaps.failsafes,
          failsafesByReason: swapFailsafes,
          rssMB: Math.round(rssSwaps / 2 ** 20),
        },
      }
    : {}),
  budgets: { tickP99Us: 150, encoderP99Us: 10_000, rssMB: 250 },
}, null, 2));
