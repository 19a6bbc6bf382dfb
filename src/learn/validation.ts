import type { TransitionColumnsView } from '../data/index.js';
import type { Rng } from '../core/rng.js';

/**
 * Splits a dataset by episode (never splitting an episode, so held-out rows are unseen
 * trajectories): about `share` of the episodes go to validation.
 */
export function splitByEpisode(episode: Uint32Array, share: number, rng: Rng): { train: Uint32Array; validation: Uint32Array } {
  const held = new Map<number, boolean>();
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < episode.length; i++) {
    const e = episode[i]!;
    let h = held.get(e);
    if (h === undefined) {
      h = rng.next() < share;
      held.set(e, h);
    }
    (h ? validation : train).push(i);
  }
  return { train: Uint32Array.from(train), validation: Uint32Array.from(validation) };
}

/**
 * Label of each row: 1 when a violation happens within the next `k` steps of its episode,
 * counting this transition's own cost (c_t = 1 means s′ violates). The event the critic's
 * Q_risk ranks when it is read as a risk score (thesis §3.3). Episodes may continue after a
 * violation (the reference maze data steps a frozen state on), so every violating step counts.
 */
export function violationWithin(d: Pick<TransitionColumnsView, 'size' | 'cost' | 'episode' | 'step'>, k: number): Uint8Array {
  const violationSteps = new Map<number, number[]>();
  for (let i = 0; i < d.size; i++) {
    if ((d.cost[i] ?? 0) > 0) {
      const e = d.episode[i]!;
      const list = violationSteps.get(e);
      if (list === undefined) violationSteps.set(e, [d.step[i]!]);
      else list.push(d.step[i]!);
    }
  }
  for (const list of violationSteps.values()) list.sort((a, b) => a - b);
  const labels = new Uint8Array(d.size);
  for (let i = 0; i < d.size; i++) {
    const list = violationSteps.get(d.episode[i]!);
    if (list === undefined) continue;
    const s = d.step[i]!;
    // First violation step ≥ s (binary search).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    labels[i] = lo < list.length && list[lo]! - s < k ? 1 : 0;
  }
  return labels;
}

/** The held-out rows' (s, a) and their labels: a violation within the next `k` steps (violationWithin). */
export function heldOutRows(data: Pick<TransitionColumnsView, 'size' | 'obsDim' | 'actDim' | 'obs' | 'act' | 'cost' | 'episode' | 'step'>, rows: Uint32Array, k: number): { obs: Float32Array; act: Float32Array; labels: Uint8Array; positives: number } {
  const S = data.obsDim;
  const A = data.actDim;
  const obs = new Float32Array(rows.length * S);
  const act = new Float32Array(rows.length * A);
  rows.forEach((row, i) => {
    obs.set(data.obs.subarray(row * S, row * S + S), i * S);
    act.set(data.act.subarray(row * A, row * A + A), i * A);
  });
  const all = violationWithin(data, k);
  const labels = Uint8Array.from(rows, (row) => all[row]!);
  return { obs, act, labels, positives: labels.reduce((n, l) => n + l, 0) };
}
