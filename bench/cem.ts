// `npm run bench -- cem [--ticks N] [--provider cpu|cuda] [--presets cpu,reference,nav2] [--threads 1,2]`:
// model-based recovery's plan latency through the shield (inference worker, hand-off, one CEM
// graph per plan) for the reference settings (pop 400, 40 elites, 5 iterations, horizon 5,
// ensemble 5, 20 particles), the CPU preset, and `nav2`: the planner `rshield train --robot nav2
// --recovery model-based` writes (src/learn/defaults.ts: H 5 × repeat 5, pop 32, 2 iterations,
// the critic once per held action). Model: the shipped nav2 critic and a 5 × 3×200
// dynamics ensemble trained for 2 epochs on generated nav2 data (latency does not depend on how
// well it is trained). States: random nav2 states in front of and beside the block with the
// scripted controller's proposals, so about half the ticks recover. Recovery ticks are plans;
// task ticks are the same shield's other ticks. Prints one JSON object.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler } from 'node:v8';
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.js';
import { CPU_PLANNER, PlannerSettingsSchema, REFERENCE_PLANNER, withPreset, type PlannerPreset, type PlannerSettings } from '../src/config/planner-settings.js';
import { plannerDefaultsFor } from '../src/learn/defaults.js';
import { TransitionColumns } from '../src/data/index.js';
import { createController, generateOfflineData } from '../src/envs/index.js';
import { DYNAMICS_FILE, DynamicsEnsemble } from '../src/learn/dynamics-ensemble.js';
import { Shield } from '../src/inference/shield.js';

const { values } = parseArgs({
  options: {
    ticks: { type: 'string', default: '600' },
    provider: { type: 'string', default: 'cpu' },
    presets: { type: 'string', default: 'cpu,reference,nav2' },
    threads: { type: 'string', default: '1,2' },
  },
});
const TICKS = Number(values.ticks);
const provider = values.provider === 'cuda' ? 'cuda' : 'cpu';
type BenchPreset = PlannerPreset | 'nav2';
const presets = values.presets.split(',') as BenchPreset[];
const nav2 = plannerDefaultsFor('nav2');
/** What `rshield train --robot nav2 --recovery model-based` writes into the card (cli/commands/train.ts). */
const NAV2_PLANNER: PlannerSettings = PlannerSettingsSchema.parse({
  ...nav2.extra, ...CPU_PLANNER, ...nav2.cpu, horizon: nav2.horizon, taskWeight: nav2.taskWeight, riskPenalty: nav2.riskPenalty,
  goal: { dims: [0, 1], target: [0, 0], weight: nav2.goalWeight },
});
const threadCounts = values.threads.split(',').map(Number);
const POOL = 256;

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
const r2 = (x: number): number => Math.round(x * 100) / 100;
const stats = (xs: Float64Array): { p50Ms: number; p99Ms: number; maxMs: number; n: number } => {
  const s = Float64Array.from(xs).sort();
  return { p50Ms: r2(quantile(s, 0.5)), p99Ms: r2(quantile(s, 0.99)), maxMs: r2(s[s.length - 1] ?? Number.NaN), n: s.length };
};

/** The shipped nav2 critic with a freshly trained dynamics ensemble; `planner` in the card (the presets override its sampling). */
async function buildModelDir(dir: string, planner: PlannerSettings): Promise<void> {
  await cp('models/nav2', dir, { recursive: true });
  const cols = TransitionColumns.growable(2, 2);
  for (const t of generateOfflineData('nav2', { transitions: 3000, seed: 1 })) cols.push(t);
  const rows = Uint32Array.from({ length: cols.size }, (_, i) => i);
  const ens = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 1 });
  await ens.fit(cols, rows, 2);
  await writeFile(join(dir, DYNAMICS_FILE), ens.exportOnnx());
  await ens.release();
  const card = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  card.dynamics = { file: DYNAMICS_FILE, inputs: { obs: 'obs', act: 'act' }, outputs: { mean: 'mean', logvar: 'logvar' }, ensemble: 5 };
  card.planner = planner;
  card.recoveryMode = 'model-based';
  await writeFile(join(dir, 'model.json'), JSON.stringify(card));
}

const rng = new Rng(7);
const controller = createController('nav2');
const obsPool: Float32Array[] = [];
const actPool: Float32Array[] = [];
for (let i = 0; i < POOL; i++) {
  const obs = Float32Array.from([rng.uniform(-40, -18), rng.uniform(-12, 12)]);
  obsPool.push(obs);
  actPool.push(controller.act(obs));
}

async function run(dir: string, preset: BenchPreset, threads: number) {
  const shield = await Shield.load({ modelDir: dir, ...(preset === 'nav2' ? {} : { planner: preset }), provider, threads, deadlineUs: 10_000_000, stuckAfterMs: 60_000 });
  const settings = preset === 'nav2' ? NAV2_PLANNER : withPreset(PlannerSettingsSchema.parse({ ...REFERENCE_PLANNER, horizon: 5 }), preset);
  for (let i = 0; i < 20; i++) await shield.decide(obsPool[i % POOL]!, actPool[i % POOL]!);
  shield.resetStats();
  const dur = new Float64Array(TICKS);
  const rec = new Uint8Array(TICKS);
  globalThis.gc?.();
  const gc = new GCProfiler();
  const before = process.memoryUsage().heapUsed;
  gc.start();
  for (let i = 0; i < TICKS; i++) {
    const t0 = performance.now();
    const d = await shield.decide(obsPool[i % POOL]!, actPool[i % POOL]!);
    dur[i] = performance.now() - t0;
    rec[i] = d.source === 'recovery' ? 1 : 0;
  }
  const after = process.memoryUsage().heapUsed;
  const prof = gc.stop();
  let reclaimed = 0;
  for (const s of prof.statistics) reclaimed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  const st = shield.stats();
  const plans = shield.plannerStats();
  const used = shield.provider;
  await shield.close();
  const pick = (want: number): Float64Array => Float64Array.from(dur.filter((_, i) => rec[i] === want));
  return {
    preset,
    settings: { population: settings.population, elites: settings.elites, iterations: settings.iterations, horizon: settings.horizon, repeat: settings.repeat, riskAt: settings.riskAt, ensemble: 5, particles: settings.particles },
    provider: used,
    threads,
    plan: stats(pick(1)),
    taskTicks: stats(pick(0)),
    plans,
    failsafes: st.failsafes,
    // JavaScript heap only: ONNX Runtime's native buffers are not counted.
    allocBytesPerTick: Math.round((after - before + reclaimed) / TICKS),
  };
}

const root = await mkdtemp(join(tmpdir(), 'rshield-bench-cem-'));
try {
  const dir = join(root, 'nav2-mb');
  await buildModelDir(dir, PlannerSettingsSchema.parse({ ...REFERENCE_PLANNER, horizon: 5, taskWeight: 0.1, goal: { dims: [0, 1], target: [0, 0], weight: 0.1 } }));
  const nav2Dir = join(root, 'nav2-mb-default');
  if (presets.includes('nav2')) await buildModelDir(nav2Dir, NAV2_PLANNER);
  const runs = [];
  for (const preset of presets) for (const threads of threadCounts) runs.push(await run(preset === 'nav2' ? nav2Dir : dir, preset, threads));
  const cpu = runs.find((r) => r.preset === 'cpu' && r.threads === threadCounts[0]);
  const ref = runs.find((r) => r.preset === 'reference' && r.threads === threadCounts[0]);
  console.log(JSON.stringify({
    scenario: 'cem',
    ticks: TICKS,
    runs,
    ...(cpu === undefined || ref === undefined ? {} : { referenceOverCpuP50: r2(ref.plan.p50Ms / cpu.plan.p50Ms) }),
    budget: { cpuPresetPlanP99Ms: 20, nav2PlanP99Ms: 20 },
  }, null, 2));
} finally {
  await rm(root, { recursive: true, force: true });
}
