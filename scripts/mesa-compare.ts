/**
 * MESA vs Multi-Task vs RRL-small-data vs Unconstrained on task families (docs/results.md).
 *   node --import tsx scripts/mesa-compare.ts --family nav2 --seeds 5 [--recovery nearest-safe] [--episodes E] [--meta-iterations N] [--methods mesa,multi-task] [--out results.json]
 * One JSON line per seed on stdout as it finishes, the summary table on stderr at the end.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COMPARED_METHODS, runComparisonSeed, type ComparedMethod, type SeedResult } from '../src/app/experiment/mesa-comparison.js';

const { values } = parseArgs({
  options: { family: { type: 'string', multiple: true }, seeds: { type: 'string' }, 'first-seed': { type: 'string' }, out: { type: 'string' }, work: { type: 'string' }, episodes: { type: 'string' }, recovery: { type: 'string' }, 'meta-iterations': { type: 'string' }, methods: { type: 'string' } },
});
if (values.recovery !== undefined && values.recovery !== 'policy' && values.recovery !== 'nearest-safe') throw new Error(`--recovery must be policy or nearest-safe, got '${values.recovery}'`);
const methods = (values.methods?.split(',') ?? [...COMPARED_METHODS]) as ComparedMethod[];
const unknown = methods.find((m) => !(COMPARED_METHODS as readonly string[]).includes(m));
if (unknown !== undefined) throw new Error(`--methods: unknown method '${unknown}' (known: ${COMPARED_METHODS.join(', ')})`);
const families = values.family ?? ['nav1', 'nav2', 'cartpole-length'];
const seeds = Number(values.seeds ?? 5);
const first = Number(values['first-seed'] ?? 1);
const all: SeedResult[] = [];
for (const family of families) {
  for (let seed = first; seed < first + seeds; seed++) {
    const r = await runComparisonSeed({
      family, seed, methods, workDir: values.work ?? join(tmpdir(), 'rshield-mesa-compare'),
      settings: {
        ...(values.episodes === undefined ? {} : { episodes: Number(values.episodes) }),
        ...(values['meta-iterations'] === undefined ? {} : { metaIterations: Number(values['meta-iterations']) }),
        ...(values.recovery === 'nearest-safe' || values.recovery === 'policy' ? { recoveryMode: values.recovery } : {}),
      },
      log: (l) => console.error(l),
    });
    all.push(r);
    console.log(JSON.stringify({ family: r.family, seed: r.seed, testParams: r.testParams, seconds: Number(r.seconds.toFixed(1)), methods: r.methods.map(({ cumulativeViolations: _, ...m }) => m) }));
  }
}
if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(all, null, 1)}\n`);

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const se = (xs: readonly number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length));
const fmt = (xs: readonly number[], digits = 1): string => `${mean(xs).toFixed(digits)} ± ${se(xs).toFixed(digits)}`;
console.error('| family | method | seeds | successes | violations | ratio | critic AUROC (test robot) |');
console.error('|---|---|---|---|---|---|---|');
for (const family of families) {
  const runs = all.filter((r) => r.family === family);
  for (const method of COMPARED_METHODS) {
    const ms = runs.map((r) => r.methods.find((m) => m.method === method)).filter((m) => m !== undefined);
    if (ms.length === 0) continue;
    const au = ms.map((m) => m.auroc).filter((a): a is number => a !== null);
    console.error(`| ${family} | ${method} | ${ms.length} | ${fmt(ms.map((m) => m.successes))} | ${fmt(ms.map((m) => m.violations))} | ${fmt(ms.map((m) => m.ratio), 2)} | ${au.length === 0 ? 'n/a' : fmt(au, 3)} |`);
  }
}
