import { TransitionColumns, type TransitionColumnsView } from '../data/transition-columns.js';
import { auroc } from './auroc.js';
import { violationWithin } from './validation.js';

/** The quality gate's measure of a critic on held-out episodes. */
export interface ValidationScore {
  /** AUROC of Q_risk at predicting a violation within k steps; NaN without both classes. */
  readonly auroc: number;
  /**
   * Share of the positive rows (a violation within k steps) with Q_risk > ε_risk: where the
   * shield, running this critic, would have stepped in. NaN without positives. AUROC only ranks;
   * the shield acts on a fixed ε, so a critic that lowers Q_risk everywhere keeps its AUROC and
   * still misses violations.
   */
  readonly caught: number;
  /** Held-out rows labelled positive (a violation within k steps). */
  readonly positives: number;
  readonly rows: number;
}

/** Where a held-out episode came from: D_offline (the violation demos) or the shielded robot. */
export type HeldOutOrigin = 'offline' | 'online';

/** The scores of one critic on all held-out rows and on each origin's rows apart. */
export interface HeldOutScores {
  readonly all: ValidationScore;
  readonly offline: ValidationScore;
  readonly online: ValidationScore;
}

/**
 * Whole held-out episodes (never split: a violation's label needs the steps before it) in growing
 * columns, for the online quality gate. Episode keys are this set's own: offline and online
 * episode ids may collide, so the caller maps each episode to a fresh key.
 */
export class HeldOutSet {
  readonly #c: TransitionColumns;
  #online = new Uint8Array(256);

  constructor(obsDim: number, actDim: number) {
    this.#c = TransitionColumns.growable(obsDim, actDim, 256);
  }

  get rows(): number {
    return this.#c.size;
  }

  /** The held-out rows themselves (rows 0 … rows − 1), e.g. to score a dynamics model on. */
  get columns(): TransitionColumnsView {
    return this.#c;
  }

  /** Adds row `r` of `src` under episode `episodeKey`. */
  addRow(src: TransitionColumnsView, r: number, episodeKey: number, origin: HeldOutOrigin = 'offline'): void {
    const i = this.#c.pushRow(src, r);
    this.#c.episode[i] = episodeKey;
    if (i >= this.#online.length) {
      const grown = new Uint8Array(this.#online.length * 2);
      grown.set(this.#online);
      this.#online = grown;
    }
    this.#online[i] = origin === 'online' ? 1 : 0;
  }

  /**
   * Scores every row with `score` (Q_risk of (s, a) rows) and ranks it against the labels, over
   * all rows and per origin; `epsRisk` is the threshold of `caught`.
   */
  async evaluate(horizon: number, epsRisk: number, score: (obs: Float32Array, act: Float32Array) => Promise<ArrayLike<number>>): Promise<HeldOutScores> {
    const c = this.#c;
    const n = c.size;
    const empty = { auroc: Number.NaN, caught: Number.NaN, positives: 0, rows: 0 };
    if (n === 0) return { all: empty, offline: empty, online: empty };
    const labels = violationWithin(c, horizon);
    const scores = await score(c.obs.subarray(0, n * c.obsDim), c.act.subarray(0, n * c.actDim));
    const of = (keep: (i: number) => boolean): ValidationScore => {
      const s: number[] = [];
      const l: number[] = [];
      let caught = 0;
      for (let i = 0; i < n; i++) {
        if (!keep(i)) continue;
        s.push(scores[i] ?? 0);
        l.push(labels[i] ?? 0);
        if (labels[i] === 1 && (scores[i] ?? 0) > epsRisk) caught++;
      }
      const positives = l.reduce((a, b) => a + b, 0);
      return { auroc: auroc(s, l), caught: positives === 0 ? Number.NaN : caught / positives, positives, rows: s.length };
    };
    return { all: of(() => true), offline: of((i) => this.#online[i] === 0), online: of((i) => this.#online[i] === 1) };
  }
}
