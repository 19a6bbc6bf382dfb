import type { Transition } from '../core/types.js';
import { auroc } from './auroc.js';
import { violationWithin } from './validation.js';
import { resized } from './resized.js';

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
 * column arrays, for the online quality gate. Episode keys are this set's own: offline and online
 * episode ids may collide, so the caller maps each episode to a fresh key.
 */
export class HeldOutSet {
  rows = 0;
  private obs: Float32Array;
  private act: Float32Array;
  private cost: Float32Array = new Float32Array(256);
  private episode: Uint32Array = new Uint32Array(256);
  private step: Uint32Array = new Uint32Array(256);

  constructor(
    readonly obsDim: number,
    readonly actDim: number,
  ) {
    this.obs = new Float32Array(256 * obsDim);
    this.act = new Float32Array(256 * actDim);
  }

  add(obs: ArrayLike<number>, act: ArrayLike<number>, cost: number, episodeKey: number, step: number): void {
    if (this.rows === this.cost.length) this.grow();
    const i = this.rows++;
    this.obs.set(obs, i * this.obsDim);
    this.act.set(act, i * this.actDim);
    this.cost[i] = cost;
    this.episode[i] = episodeKey;
    this.step[i] = step;
  }

  addTransition(t: Transition, episodeKey: number): void {
    this.add(t.obs, t.act, t.cost, episodeKey, t.step);
  }

  /** Scores every row with `score` (Q_risk of (s, a) rows) and ranks it against the labels. */
  async evaluate(horizon: number, score: (obs: Float32Array, act: Float32Array) => Promise<ArrayLike<number>>): Promise<ValidationScore> {
    const n = this.rows;
    if (n === 0) return { auroc: Number.NaN, positives: 0, rows: 0 };
    const labels = violationWithin({ size: n, cost: this.cost, episode: this.episode, step: this.step }, horizon);
    const scores = await score(this.obs.subarray(0, n * this.obsDim), this.act.subarray(0, n * this.actDim));
    return { auroc: auroc(scores, labels), positives: labels.reduce((s, l) => s + l, 0), rows: n };
  }

  private grow(): void {
    const n = this.cost.length * 2;
    this.obs = resized(this.obs, n * this.obsDim);
    this.act = resized(this.act, n * this.actDim);
    this.cost = resized(this.cost, n);
    this.episode = resized(this.episode, n);
    this.step = resized(this.step, n);
  }
}
