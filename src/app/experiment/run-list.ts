/**
 * The runs of an experiment (algorithm × seed, in a fixed order) and the deterministic slices
 * `--shard i/n` takes of them, so one study can be spread over the machines of a batch system.
 */
import { RShieldError } from '../../core/errors.js';
import type { RunSpec } from '../../learn/algorithm.js';

export interface PlannedRun {
  readonly spec: RunSpec;
  /** Where the run is summarised: the algorithm, with its ablations, e.g. `scripted-online+no-online`. */
  readonly key: string;
  /** `key/seed-N`: how messages and the summary name the run. */
  readonly name: string;
}

export interface PlanOptions {
  readonly robot: string;
  readonly algos: readonly string[];
  readonly seeds: number;
  readonly episodes: number;
  readonly ablations: readonly string[];
  readonly threads: number;
}

export function algoKey(algo: string, ablations: readonly string[]): string {
  return [algo, ...ablations].join('+');
}

/** Every run, algorithm-major; seeds are 0 … seeds−1. */
export function planRuns(o: PlanOptions): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const algo of o.algos) {
    const key = algoKey(algo, o.ablations);
    for (let seed = 0; seed < o.seeds; seed++) {
      runs.push({ spec: { robot: o.robot, algo, seed, episodes: o.episodes, ablations: [...o.ablations], threads: o.threads }, key, name: `${key}/seed-${seed}` });
    }
  }
  return runs;
}

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

/** `i/n` with 1 ≤ i ≤ n. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || count < 1 || index < 1 || index > count) {
    throw new RShieldError('E_USAGE', `--shard must be i/n with 1 ≤ i ≤ n, got '${text}'`, { option: 'shard', value: text });
  }
  return { index, count };
}

/** Run k goes to shard (k mod n) + 1: every run in exactly one shard, algorithms spread evenly. */
export function shardRuns<T>(runs: readonly T[], shard: Shard): T[] {
  return runs.filter((_, k) => k % shard.count === shard.index - 1);
}
