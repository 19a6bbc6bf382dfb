import type { TransitionColumnsView } from '../data/index.js';

/**
 * Input scaling baked into every network: observations are standardised by the training
 * data's mean and standard deviation, actions mapped from their bounds to [-1, 1]. The robots'
 * units differ by four orders of magnitude (nav units vs dVRK metres); without this the same
 * learning rate cannot fit both.
 */
export interface Normalizer {
  readonly obsMean: number[];
  readonly obsStd: number[];
  readonly actCenter: number[];
  readonly actHalfRange: number[];
}

export function normalizerFromData(data: Pick<TransitionColumnsView, 'size' | 'obsDim' | 'obs'>, actLow: ArrayLike<number>, actHigh: ArrayLike<number>): Normalizer {
  const d = data.obsDim;
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (let i = 0; i < data.size; i++) {
    for (let j = 0; j < d; j++) {
      const v = data.obs[i * d + j] ?? 0;
      mean[j] = (mean[j] ?? 0) + v;
      sq[j] = (sq[j] ?? 0) + v * v;
    }
  }
  const n = Math.max(1, data.size);
  const obsMean = mean.map((s) => s / n);
  // A floor on σ keeps a constant coordinate from dividing by zero.
  const obsStd = sq.map((s, j) => Math.max(Math.sqrt(Math.max(0, s / n - (obsMean[j] ?? 0) ** 2)), 1e-6));
  const actCenter: number[] = [];
  const actHalfRange: number[] = [];
  for (let j = 0; j < actLow.length; j++) {
    const lo = actLow[j] ?? -1;
    const hi = actHigh[j] ?? 1;
    actCenter.push((hi + lo) / 2);
    actHalfRange.push(Math.max((hi - lo) / 2, 1e-9));
  }
  return { obsMean, obsStd, actCenter, actHalfRange };
}

/** A card's `training.normalizer` as written by the trainers (JSON: plain number arrays). */
export function isNormalizer(x: unknown): x is Normalizer {
  const n = x as Partial<Normalizer> | undefined;
  return n !== undefined && [n.obsMean, n.obsStd, n.actCenter, n.actHalfRange].every((a) => Array.isArray(a) && a.every((v) => typeof v === 'number'));
}
