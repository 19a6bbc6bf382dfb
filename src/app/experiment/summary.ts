/**
 * The thesis's metric (ch. 4; reference notes §5): per seed, cumulative successes S and
 * violating episodes V, the ratio (S+1)/(V+1) at the last episode; averaged over seeds with
 * the standard error. Also the per-episode curves the plots draw.
 */
import type { EpisodeResult } from '../../learn/algorithm.js';

/** Mean and standard error (sample s.d./√n); null where undefined (no value; se with one). */
export interface MeanSe {
  readonly mean: number | null;
  readonly se: number | null;
}

export function meanSe(xs: readonly number[]): MeanSe {
  const n = xs.length;
  if (n === 0) return { mean: null, se: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, se: null };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, se: Math.sqrt(ss / (n - 1) / n) };
}

export interface RunSummary {
  readonly seed: number;
  /** The run's JSONL, relative to the experiment directory. */
  readonly file: string;
  readonly successes: number;
  readonly violations: number;
  readonly ratio: number;
  /** Violating episodes whose violation happened while the recovery policy acted. */
  readonly recoveryViolations: number;
  /** recoveryViolations / violations; null without violations (thesis Table I: N/A). */
  readonly recoveryViolationShare: number | null;
  readonly recoverySteps: number;
  readonly steps: number;
  readonly meanReturn: number;
}

export interface AlgoSummary {
  readonly successes: MeanSe;
  readonly violations: MeanSe;
  readonly ratio: MeanSe;
  /** Over the seeds that had a violation. */
  readonly recoveryViolationShare: MeanSe;
  readonly runs: RunSummary[];
}

export interface ExperimentSummary {
  readonly robot: string;
  readonly episodes: number;
  readonly seeds: number;
  readonly algos: Record<string, AlgoSummary>;
}

/** Per episode k (0-based), mean ± s.e. over seeds of S_k, V_k and (S_k+1)/(V_k+1). */
export interface Curves {
  readonly successes: MeanSe[];
  readonly violations: MeanSe[];
  readonly ratio: MeanSe[];
}

export interface FinishedRun {
  readonly seed: number;
  readonly file: string;
  readonly episodes: readonly EpisodeResult[];
}

export function summariseRun(r: FinishedRun): RunSummary {
  let s = 0;
  let v = 0;
  let rv = 0;
  let recoverySteps = 0;
  let steps = 0;
  let ret = 0;
  for (const e of r.episodes) {
    if (e.success) s++;
    if (e.violation) v++;
    if (e.violation && e.recoveryViolation) rv++;
    recoverySteps += e.recoverySteps;
    steps += e.steps;
    ret += e.return;
  }
  return {
    seed: r.seed, file: r.file, successes: s, violations: v, ratio: (s + 1) / (v + 1),
    recoveryViolations: rv, recoveryViolationShare: v === 0 ? null : rv / v, recoverySteps, steps,
    meanReturn: r.episodes.length === 0 ? 0 : ret / r.episodes.length,
  };
}

export function summariseAlgo(runs: readonly FinishedRun[]): AlgoSummary {
  const rs = runs.map(summariseRun);
  return {
    successes: meanSe(rs.map((r) => r.successes)),
    violations: meanSe(rs.map((r) => r.violations)),
    ratio: meanSe(rs.map((r) => r.ratio)),
    recoveryViolationShare: meanSe(rs.flatMap((r) => (r.recoveryViolationShare === null ? [] : [r.recoveryViolationShare]))),
    runs: rs,
  };
}

export function curves(runs: readonly FinishedRun[], episodes: number): Curves {
  const out: Curves = { successes: [], violations: [], ratio: [] };
  const s = new Array<number>(runs.length).fill(0);
  const v = new Array<number>(runs.length).fill(0);
  for (let k = 0; k < episodes; k++) {
    runs.forEach((r, i) => {
      const e = r.episodes[k];
      if (e?.success === true) s[i]!++;
      if (e?.violation === true) v[i]!++;
    });
    out.successes.push(meanSe(s));
    out.violations.push(meanSe(v));
    out.ratio.push(meanSe(s.map((x, i) => (x + 1) / (v[i]! + 1))));
  }
  return out;
}
