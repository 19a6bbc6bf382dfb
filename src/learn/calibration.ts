/**
 * Choosing ε_risk from data (the thesis leaves it as future work): sweep thresholds over the
 * critic's Q_risk on held-out episodes, and where a simulated robot exists over shielded
 * rollouts, then pick the largest ε whose trade-off meets the operator's target.
 */
import { RShieldError } from '../core/errors.js';

/** What a threshold ε would have done on held-out episodes (recorded, not replayed). */
export interface HeldOutPoint {
  /** Share of all rows with Q_risk ≥ ε: how often the shield would have stepped in. */
  readonly flaggedShare: number;
  /** Share of rows with no violation within k steps that are flagged anyway. */
  readonly falseAlarmShare: number;
  /** Share of rows with a violation within k steps that are flagged. */
  readonly recall: number;
  /** Violating episodes in which no row of the k steps before a violation was flagged. */
  readonly missedViolations: number;
}

/** Shielded rollouts on a simulated robot with ε as the threshold. */
export interface RolloutPoint {
  readonly episodes: number;
  readonly successes: number;
  readonly violations: number;
  /** Ticks where the recovery policy acted. */
  readonly interventions: number;
  readonly ticks: number;
}

export interface CalibrationRow {
  readonly eps: number;
  readonly heldOut: HeldOutPoint;
  readonly rollout?: RolloutPoint;
}

/** Counts over the held-out set that do not depend on ε. */
export interface HeldOutTotals {
  readonly rows: number;
  readonly positives: number;
  readonly episodes: number;
  readonly violatingEpisodes: number;
}

export type CalibrationTarget =
  /** At most this share of episodes with a violation (rollouts; else estimated from held-out misses). */
  | { readonly kind: 'violation-rate'; readonly max: number }
  /** At most this share of ticks under recovery (rollouts; else the held-out flagged share). */
  | { readonly kind: 'max-interventions'; readonly max: number };

/** The default sweep: 0.05 … 0.95 in steps of 0.05 (ε_risk must stay below 1). */
export function defaultGrid(): number[] {
  return Array.from({ length: 19 }, (_, i) => Number((0.05 * (i + 1)).toFixed(2)));
}

/**
 * Sweeps `grid` over held-out rows: `scores` are Q_risk(s, a) of each row, `labels` 1 where a
 * violation follows within k steps (validation.ts `violationWithin`), `episode` the row's episode.
 */
export function sweepHeldOut(scores: ArrayLike<number>, labels: ArrayLike<number>, episode: ArrayLike<number>, grid: readonly number[]): { totals: HeldOutTotals; points: HeldOutPoint[] } {
  const n = scores.length;
  if (labels.length !== n || episode.length !== n) throw new RShieldError('E_USAGE', `scores, labels and episodes differ in length (${n}, ${labels.length}, ${episode.length})`);
  // Per violating episode, the highest Q_risk among its positive rows: ε catches it when ε ≤ that.
  const bestPositive = new Map<number, number>();
  const episodes = new Set<number>();
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < n; i++) {
    const q = scores[i] ?? 0;
    const e = episode[i] ?? 0;
    episodes.add(e);
    if ((labels[i] ?? 0) > 0) {
      pos.push(q);
      bestPositive.set(e, Math.max(bestPositive.get(e) ?? -Infinity, q));
    } else {
      neg.push(q);
    }
  }
  const caught = [...bestPositive.values()];
  const atLeast = (xs: readonly number[], eps: number): number => xs.reduce((c, q) => c + (q >= eps ? 1 : 0), 0);
  const share = (k: number, of: number): number => (of === 0 ? 0 : k / of);
  const points = grid.map((eps) => {
    const flaggedPos = atLeast(pos, eps);
    const flaggedNeg = atLeast(neg, eps);
    return {
      flaggedShare: share(flaggedPos + flaggedNeg, n),
      falseAlarmShare: share(flaggedNeg, neg.length),
      recall: share(flaggedPos, pos.length),
      missedViolations: caught.length - atLeast(caught, eps),
    };
  });
  return { totals: { rows: n, positives: pos.length, episodes: episodes.size, violatingEpisodes: caught.length }, points };
}

/** Share of episodes with a violation at ε: measured by rollouts, else held-out misses over held-out episodes. */
export function violationRate(row: CalibrationRow, totals: HeldOutTotals): number {
  if (row.rollout !== undefined) return row.rollout.episodes === 0 ? 0 : row.rollout.violations / row.rollout.episodes;
  return totals.episodes === 0 ? 0 : row.heldOut.missedViolations / totals.episodes;
}

/** Share of ticks under recovery at ε: measured by rollouts, else the held-out flagged share. */
export function interventionRate(row: CalibrationRow): number {
  if (row.rollout !== undefined) return row.rollout.ticks === 0 ? 0 : row.rollout.interventions / row.rollout.ticks;
  return row.heldOut.flaggedShare;
}

export type Choice = { readonly eps: number; readonly row: CalibrationRow } | { readonly eps: null; readonly reason: string };

/**
 * The ε the target allows. `violation-rate`: the largest ε such that it and every smaller ε of
 * the sweep meet the rate (a noisy rollout that happens to pass above a failing ε is not taken);
 * `max-interventions`: the smallest ε that meets the limit and every larger one does too.
 */
export function chooseEps(rows: readonly CalibrationRow[], totals: HeldOutTotals, target: CalibrationTarget): Choice {
  const sorted = [...rows].sort((a, b) => a.eps - b.eps);
  if (sorted.length === 0) return { eps: null, reason: 'the sweep is empty' };
  if (target.kind === 'violation-rate') {
    let chosen: CalibrationRow | undefined;
    for (const r of sorted) {
      if (violationRate(r, totals) > target.max) break;
      chosen = r;
    }
    if (chosen !== undefined) return { eps: chosen.eps, row: chosen };
    const first = sorted[0]!;
    return { eps: null, reason: `no ε meets violation rate ≤ ${target.max}: the smallest, ε ${first.eps}, gives ${violationRate(first, totals).toFixed(3)}` };
  }
  let chosen: CalibrationRow | undefined;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const r = sorted[i]!;
    if (interventionRate(r) > target.max) break;
    chosen = r;
  }
  if (chosen !== undefined) return { eps: chosen.eps, row: chosen };
  const last = sorted[sorted.length - 1]!;
  return { eps: null, reason: `no ε meets interventions ≤ ${target.max}: the largest, ε ${last.eps}, gives ${interventionRate(last).toFixed(3)}` };
}
