import { TransitionColumns, type TransitionColumnsView } from '../data/transition-columns.js';
import { auroc } from './auroc.js';
import { violationWithin } from './validation.js';

/** The quality gate's measure of a critic on the held-out episodes. */
export interface ValidationScore {
  /** AUROC of Q_risk at predicting a violation within k steps; NaN without both classes. */
  readonly auroc: number;
  /** Held-out rows labelled positive (a violation within k steps). */
  readonly positives: number;
  readonly rows: number;
}

/**
 * Whole held-out episodes (never split: a violation's label needs the steps before it) in growing
 * columns, for the online quality gate. Episode keys are this set's own: offline and online
 * episode ids may collide, so the caller maps each episode to a fresh key.
 */
export class HeldOutSet {
  readonly #c: TransitionColumns;

  constructor(obsDim: number, actDim: number) {
    this.#c = TransitionColumns.growable(obsDim, actDim, 256);
  }

  get rows(): number {
    return this.#c.size;
  }

  /** Adds row `r` of `src` under episode `episodeKey`. */
  addRow(src: TransitionColumnsView, r: number, episodeKey: number): void {
    const i = this.#c.pushRow(src, r);
    this.#c.episode[i] = episodeKey;
  }

  /** Scores every row with `score` (Q_risk of (s, a) rows) and ranks it against the labels. */
  async evaluate(horizon: number, score: (obs: Float32Array, act: Float32Array) => Promise<ArrayLike<number>>): Promise<ValidationScore> {
    const c = this.#c;
    const n = c.size;
    if (n === 0) return { auroc: Number.NaN, positives: 0, rows: 0 };
    const labels = violationWithin(c, horizon);
    const scores = await score(c.obs.subarray(0, n * c.obsDim), c.act.subarray(0, n * c.actDim));
    return { auroc: auroc(scores, labels), positives: labels.reduce((s, l) => s + l, 0), rows: n };
  }
}
