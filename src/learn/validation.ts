import type { TransitionColumns } from './batch-sampler.js';
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
 * Q_risk ranks when it is read as a risk score (thesis §3.3).
 */
export function violationWithin(d: Pick<TransitionColumns, 'size' | 'cost'> & { episode: Uint32Array; step: Uint32Array }, k: number): Uint8Array {
  // Step of the first violation of each episode.
  const firstViolation = new Map<number, number>();
  for (let i = 0; i < d.size; i++) {
    if ((d.cost[i] ?? 0) > 0) {
      const e = d.episode[i]!;
      const s = d.step[i]!;
      const have = firstViolation.get(e);
      if (have === undefined || s < have) firstViolation.set(e, s);
    }
  }
  const labels = new Uint8Array(d.size);
  for (let i = 0; i < d.size; i++) {
    const v = firstViolation.get(d.episode[i]!);
    const s = d.step[i]!;
    labels[i] = v !== undefined && v >= s && v - s < k ? 1 : 0;
  }
  return labels;
}
