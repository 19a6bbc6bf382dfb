/** The summary of whatever runs of a plan are finished in the experiment directory. */
import type { PlannedRun } from './run-list.js';
import { readFinishedRun, runFiles } from './run-store.js';
import { curves, summariseAlgo, type Curves, type ExperimentSummary, type FinishedRun } from './summary.js';

export interface Collected {
  readonly summary: ExperimentSummary;
  /** Per algorithm key, in plan order. */
  readonly curves: Map<string, Curves>;
  /** Names of the plan's runs that are not finished. */
  readonly missing: string[];
}

export async function collectRuns(dir: string, plan: readonly PlannedRun[], o: { robot: string; episodes: number; seeds: number }): Promise<Collected> {
  const byKey = new Map<string, FinishedRun[]>();
  const missing: string[] = [];
  for (const run of plan) {
    const files = runFiles(dir, run);
    const episodes = await readFinishedRun(files, run.spec);
    const list = byKey.get(run.key) ?? [];
    byKey.set(run.key, list);
    if (episodes === null) missing.push(run.name);
    else list.push({ seed: run.spec.seed, file: files.relative, episodes });
  }
  const algos: ExperimentSummary['algos'] = {};
  const c = new Map<string, Curves>();
  for (const [key, runs] of byKey) {
    algos[key] = summariseAlgo(runs);
    if (runs.length > 0) c.set(key, curves(runs, o.episodes));
  }
  return { summary: { robot: o.robot, episodes: o.episodes, seeds: o.seeds, algos }, curves: c, missing };
}
