/**
 * Ablations of one algorithm side by side (docs/results.md): each arm is an experiment directory
 * of `rshield experiment --algo A [--ablate X]`; prints successes, violations and the ratio
 * (S+1)/(V+1) at chosen episodes (mean ± s.e. over seeds) and writes the three plots with one
 * line per arm.
 *   node --import tsx scripts/ablation-curves.ts --robot nav1 --algo recovery-rl --seeds 3 --episodes 300 \
 *     --arm none=DIR --arm no-relabeling=DIR2 [--at 30,100,300] [--out PREFIX]
 * An arm's name is its ablation ('none': the algorithm as it is). Only finished runs count (a
 * run still going is named as missing); nothing in the directories is written.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { collectRuns } from '../src/app/experiment/collect.js';
import { planRuns } from '../src/app/experiment/run-list.js';
import type { Curves, MeanSe } from '../src/app/experiment/summary.js';
import { experimentPlots, PLOTS } from '../src/cli/experiment/plots.js';

const { values } = parseArgs({
  options: {
    robot: { type: 'string' }, algo: { type: 'string' }, seeds: { type: 'string' }, episodes: { type: 'string' },
    arm: { type: 'string', multiple: true }, at: { type: 'string' }, out: { type: 'string' },
  },
});
const need = (name: 'robot' | 'algo' | 'seeds' | 'episodes'): string => {
  const v = values[name];
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
};
const robot = need('robot');
const algo = need('algo');
const seeds = Number(need('seeds'));
const episodes = Number(need('episodes'));
const at = (values.at ?? `30,100,${episodes}`).split(',').map(Number);
for (const k of at) if (!(Number.isInteger(k) && k >= 1 && k <= episodes)) throw new Error(`--at: ${k} is not an episode count in 1 … ${episodes}`);
const arms = (values.arm ?? []).map((a) => {
  const eq = a.indexOf('=');
  if (eq <= 0) throw new Error(`--arm ${a}: expected NAME=DIR`);
  return { name: a.slice(0, eq), dir: a.slice(eq + 1) };
});
if (arms.length === 0) throw new Error('give at least one --arm NAME=DIR');

const byArm = new Map<string, Curves>();
const fmt = (m: MeanSe, digits: number): string => (m.mean === null ? 'n/a' : `${m.mean.toFixed(digits)} ± ${(m.se ?? 0).toFixed(digits)}`);
console.log(`| ablation | ${at.map((k) => `successes / violations / ratio at ${k}`).join(' | ')} | runs |`);
console.log(`|---|${at.map(() => '---|').join('')}---|`);
for (const arm of arms) {
  const ablations = arm.name === 'none' ? [] : [arm.name];
  const plan = planRuns({ robot, algos: [algo], seeds, episodes, ablations, threads: 1 });
  const collected = await collectRuns(arm.dir, plan, { robot, episodes, seeds });
  const c = collected.curves.values().next().value;
  const done = seeds - collected.missing.length;
  if (c === undefined) {
    console.log(`| ${arm.name} | ${at.map(() => 'n/a').join(' | ')} | 0 of ${seeds} (missing: ${collected.missing.join(', ')}) |`);
    continue;
  }
  byArm.set(arm.name, c);
  const cells = at.map((k) => `${fmt(c.successes[k - 1]!, 1)} / ${fmt(c.violations[k - 1]!, 1)} / ${fmt(c.ratio[k - 1]!, 2)}`);
  console.log(`| ${arm.name} | ${cells.join(' | ')} | ${done} of ${seeds}${collected.missing.length > 0 ? ` (missing: ${collected.missing.join(', ')})` : ''} |`);
}
if (values.out !== undefined) {
  const plots = experimentPlots(`${robot} ${algo} ablations, ${seeds} seeds × ${episodes} episodes`, byArm);
  for (const p of Object.values(PLOTS)) {
    const path = `${values.out}-${p.file}`;
    await writeFile(path, plots.get(p.file)!);
    console.error(`wrote ${path}`);
  }
}
