/**
 * A RiskModel with nearest-safe recovery: the tick's model (fused or separate) answers
 * Q_risk(s, a_task) and π_rec(s) as before, and a second session runs the search graph
 * (nearest-safe-graph.ts) only on ticks where Q_risk(s, a_task) > ε already — task ticks stay
 * one session.run. Tensors are created once over model-owned arrays; ORT writes in place.
 */
import * as ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import type { RiskModel } from '../core/risk-model.js';
import { copyInto } from './copy-into.js';
import { Rng } from '../core/rng.js';
import { NS_ACTION, NS_FALLBACK, NS_INDEX, NS_OBS, NS_PROPOSED, NS_Q, NS_THRESHOLD } from './nearest-safe-graph.js';

export interface NearestSafeStats {
  /** Searches run (recovery ticks in nearest-safe mode). */
  readonly searches: number;
  /** Searches where no candidate was safe and π_rec(s) was returned. */
  readonly fallbacks: number;
}

export class NearestSafeRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  /** Candidates per search, the recovery action included. */
  readonly candidates: number;
  readonly #base: RiskModel;
  readonly #session: ort.InferenceSession;
  readonly #obs: Float32Array;
  readonly #proposed: Float32Array;
  readonly #fallback: Float32Array;
  readonly #threshold = new Float32Array(1);
  readonly #action: Float32Array;
  readonly #q = new Float32Array(1);
  readonly #index = new Float32Array(1);
  readonly #feeds: Record<string, ort.Tensor>;
  readonly #fetches: Record<string, ort.Tensor>;
  #searches = 0;
  #fallbacks = 0;

  constructor(base: RiskModel, session: ort.InferenceSession, candidates: number) {
    this.#base = base;
    this.#session = session;
    this.obsDim = base.obsDim;
    this.actDim = base.actDim;
    this.candidates = candidates;
    const S = base.obsDim;
    const A = base.actDim;
    this.#obs = new Float32Array(S);
    this.#proposed = new Float32Array(A);
    this.#fallback = new Float32Array(A);
    this.#action = new Float32Array(A);
    this.#feeds = {
      [NS_OBS]: new ort.Tensor('float32', this.#obs, [1, S]),
      [NS_PROPOSED]: new ort.Tensor('float32', this.#proposed, [1, A]),
      [NS_FALLBACK]: new ort.Tensor('float32', this.#fallback, [1, A]),
      [NS_THRESHOLD]: new ort.Tensor('float32', this.#threshold, [1]),
    };
    this.#fetches = {
      [NS_ACTION]: new ort.Tensor('float32', this.#action, [1, A]),
      [NS_Q]: new ort.Tensor('float32', this.#q, [1]),
      [NS_INDEX]: new ort.Tensor('float32', this.#index, [1]),
    };
  }

  risk(obs: ArrayLike<number>, act: ArrayLike<number>): number | Promise<number> {
    return this.#base.risk(obs, act);
  }

  recovery(obs: ArrayLike<number>): Float32Array | Promise<Float32Array> {
    return this.#base.recovery(obs);
  }

  async nearestSafe(obs: ArrayLike<number>, proposed: Float32Array, fallback: Float32Array, threshold: number): Promise<Float32Array> {
    copyInto(this.#obs, obs);
    this.#proposed.set(proposed);
    this.#fallback.set(fallback);
    this.#threshold[0] = threshold;
    await this.#session.run(this.#feeds, this.#fetches);
    this.#searches++;
    if (this.#index[0] === -1) this.#fallbacks++;
    return this.#action;
  }

  /** Q_risk of the action the last search returned. */
  get lastQ(): number {
    return this.#q[0] as number;
  }

  /** Candidate row the last search returned; −1 when it fell back to π_rec(s). */
  get lastIndex(): number {
    return this.#index[0] as number;
  }

  stats(): NearestSafeStats {
    return { searches: this.#searches, fallbacks: this.#fallbacks };
  }

  resetStats(): void {
    this.#searches = 0;
    this.#fallbacks = 0;
  }

  async close(): Promise<void> {
    await Promise.all([this.#base.close(), this.#session.release()]);
  }
}

/**
 * The search's share of the check batch: a few seeded states and proposals through the graph
 * at batch K, so a critic that cannot run batched (a hard-coded Reshape to batch 1, say) is
 * refused at load rather than on the first risky tick.
 */
export async function checkNearestSafe(m: NearestSafeRiskModel, o: { actLow: Float32Array; actHigh: Float32Array; label: string }): Promise<void> {
  const rng = new Rng(20240608);
  const obs = new Float32Array(m.obsDim);
  const prop = new Float32Array(m.actDim);
  const fb = new Float32Array(m.actDim);
  for (let k = 0; k < 4; k++) {
    rng.fillNormal(obs);
    for (let i = 0; i < m.actDim; i++) {
      prop[i] = rng.uniform(o.actLow[i] as number, o.actHigh[i] as number);
      fb[i] = rng.uniform(o.actLow[i] as number, o.actHigh[i] as number);
    }
    let a: Float32Array;
    try {
      a = await m.nearestSafe(obs, prop, fb, k === 0 ? 0 : 1);
    } catch (err) {
      throw new RShieldError('E_MODEL', `${o.label}: the nearest-safe search (critic at batch ${m.candidates}) failed to run: ${(err as Error).message}`, { sample: k }, { cause: err });
    }
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) throw new RShieldError('E_MODEL', `${o.label}: nearest-safe check sample ${k}: action[${i}] is ${a[i]}`, { sample: k });
    }
  }
  m.resetStats();
}
