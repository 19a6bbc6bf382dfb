/**
 * MESA vs Multi-Task vs RRL-small-data vs Unconstrained on task families (docs/results.md).
 *   node --import tsx scripts/mesa-compare.ts --family nav2 --seeds 5 [--recovery nearest-safe] [--episodes E] [--meta-iterations N]
 *     [--pretrain-steps N] [--inner-lr X] [--outer-lr X] [--inner-lr-lr X] [--adaptation inner-step|adam] [--adapt-steps N] [--adapt-lr X] [--methods mesa,multi-task] [--keep] [--out results.json]
 * One JSON line per seed on stdout as it finishes, the summary table on stderr at the end.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COMPARED_METHODS, runComparisonSeed, type ComparedMethod, type SeedResult } from '../src/app/experiment/mesa-comparison.js';

const { values } = parseArgs({
  options: { family: { type: 'string', multiple: true }, seeds: { type: 'string' }, 'first-seed': { type: 'string' }, out: { type: 'string' }, work: { type: 'string' }, episodes: { type: 'string' }, recovery: { type: 'string' }, 'meta-iterations': { type: 'string' }, methods: { type: 'string' }, keep: { type: 'boolean' }, adaptation: { type: 'string' },
    'pretrain-steps': { type: 'string' }, 'inner-lr': { type: 'string' }, 'outer-lr': { type: 'string' }, 'inner-lr-lr': { type: 'string' }, 'adapt-steps': { type: 'string' }, 'adapt-lr': { type: 'string' } },
});
if (values.adaptation !== undefined && values.adaptation !== 'inner-step' && values.adaptation !== 'adam') throw new Error(`--adaptation must be inner-step or adam, got '${values.adaptation}'`);
if (values.recovery !== undefined && values.recovery !== 'policy' && values.recovery !== 'nearest-safe') throw new Error(`--recovery must be policy or nearest-safe, got '${values.recovery}'`);
const methods = (values.methods?.split(',') ?? [...COMPARED_METHODS]) as ComparedMethod[];
const unknown = methods.find((m) => !(COMPARED_METHODS as readonly string[]).includes(m));
if (unknown !== undefined) throw new Error(`--methods: unknown method '${unknown}' (known: ${COMPARED_METHODS.join(', ')})`);
/** A positive number flag, or undefined when absent. */
function num(name: keyof typeof values): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const x = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number, got '${String(v)}'`);
  return x;
}
const optional = <K extends string>(key: K, x: number | undefined): Partial<Record<K, number>> => (x === undefined ? {} : ({ [key]: x } as Record<K, number>));
const families = values.family ?? ['nav1', 'nav2', 'cartpole-length'];
const seeds = Number(values.seeds ?? 5);
const first = Number(values['first-seed'] ?? 1);
const all: SeedResult[] = [];
for (const family of families) {
  for (let seed = first; seed < first + seeds; seed++) {
    const r = await runComparisonSeed({
      family, seed, methods, keep: values.keep === true, workDir: values.work ?? join(tmpdir(), 'rshield-mesa-compare'),
      settings: {
        ...optional('episodes', num('episodes')),
        ...optional('metaIterations', num('meta-iterations')),
        ...optional('pretrainSteps', num('pretrain-steps')),
        ...optional('adaptSteps', num('adapt-steps')),
        ...optional('adaptLr', num('adapt-lr')),
        ...(values.adaptation === 'inner-step' || values.adaptation === 'adam' ? { adaptation: values.adaptation } : {}),
        ...(values.recovery === 'nearest-safe' || values.recovery === 'policy' ? { recoveryMode: values.recovery } : {}),
      },
      meta: { ...optional('innerLr', num('inner-lr')), ...optional('outerLr', num('outer-lr')), ...optional('innerLrLr', num('inner-lr-lr')) },
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
console.error('| family | method | seeds | successes | violations | ratio | critic AUROC (test robot) | before adaptation | after the reference adaptation |');
console.error('|---|---|---|---|---|---|---|---|---|');
for (const family of families) {
  const runs = all.filter((r) => r.family === family);
  for (const method of COMPARED_METHODS) {
    const ms = runs.map((r) => r.methods.find((m) => m.method === method)).filter((m) => m !== undefined);
    if (ms.length === 0) continue;
    const column = (xs: readonly (number | null)[]): string => {
      const known = xs.filter((a): a is number => a !== null);
      return known.length === 0 ? 'n/a' : fmt(known, 3);
    };
    console.error(`| ${family} | ${method} | ${ms.length} | ${fmt(ms.map((m) => m.successes))} | ${fmt(ms.map((m) => m.violations))} | ${fmt(ms.map((m) => m.ratio), 2)} | ${column(ms.map((m) => m.auroc))} | ${column(ms.map((m) => m.aurocBeforeAdapt))} | ${column(ms.map((m) => m.aurocReferenceAdapt))} |`);
  }
}
