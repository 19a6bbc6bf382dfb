/**
 * RiskModel implementations on ONNX Runtime. Input and output tensors are created once over
 * Float32Arrays the model owns; each tick copies obs/act into them and passes the output
 * tensors as fetches, so ORT writes results in place (no tensor allocation per tick).
 */
import * as ort from 'onnxruntime-node';
import type { RiskModel } from '../core/risk-model.js';
import { FUSED_ACT, FUSED_OBS, FUSED_Q, FUSED_RECOVERY } from './merge.js';
import { copyInto } from './copy-into.js';

export interface TensorWiring {
  readonly obsDim: number;
  readonly actDim: number;
  /** Rank of the critic's Q_risk output: [1, 1] or [1]. */
  readonly qRank: number;
}

/** One session computing Q_risk(s, a) and π_rec(s) together (merge.ts). */
export class FusedRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #session: ort.InferenceSession;
  readonly #obs: Float32Array;
  readonly #act: Float32Array;
  readonly #q = new Float32Array(1);
  readonly #rec: Float32Array;
  readonly #feeds: Record<string, ort.Tensor>;
  readonly #fetches: Record<string, ort.Tensor>;

  constructor(session: ort.InferenceSession, w: TensorWiring) {
    this.#session = session;
    this.obsDim = w.obsDim;
    this.actDim = w.actDim;
    this.#obs = new Float32Array(w.obsDim);
    this.#act = new Float32Array(w.actDim);
    this.#rec = new Float32Array(w.actDim);
    this.#feeds = {
      [FUSED_OBS]: new ort.Tensor('float32', this.#obs, [1, w.obsDim]),
      [FUSED_ACT]: new ort.Tensor('float32', this.#act, [1, w.actDim]),
    };
    this.#fetches = {
      [FUSED_Q]: new ort.Tensor('float32', this.#q, w.qRank === 1 ? [1] : [1, 1]),
      [FUSED_RECOVERY]: new ort.Tensor('float32', this.#rec, [1, w.actDim]),
    };
  }

  async risk(obs: ArrayLike<number>, act: ArrayLike<number>): Promise<number> {
    copyInto(this.#obs, obs);
    copyInto(this.#act, act);
    await this.#session.run(this.#feeds, this.#fetches);
    return this.#q[0] as number;
  }

  /** Already computed by risk() in the same run. */
  recovery(): Float32Array {
    return this.#rec;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

export interface SeparateNames {
  readonly criticObs: string;
  readonly criticAct: string;
  readonly criticOut: string;
  readonly recoveryIn: string;
  readonly recoveryOut: string;
}

/** Two sessions, as the card wires them: π_rec(s) runs only on ticks that need it. */
export class SeparateRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #critic: ort.InferenceSession;
  readonly #recovery: ort.InferenceSession;
  readonly #obs: Float32Array;
  readonly #act: Float32Array;
  readonly #q = new Float32Array(1);
  readonly #rec: Float32Array;
  readonly #cFeeds: Record<string, ort.Tensor>;
  readonly #cFetches: Record<string, ort.Tensor>;
  readonly #rFeeds: Record<string, ort.Tensor>;
  readonly #rFetches: Record<string, ort.Tensor>;

  constructor(critic: ort.InferenceSession, recovery: ort.InferenceSession, w: TensorWiring, n: SeparateNames) {
    this.#critic = critic;
    this.#recovery = recovery;
    this.obsDim = w.obsDim;
    this.actDim = w.actDim;
    this.#obs = new Float32Array(w.obsDim);
    this.#act = new Float32Array(w.actDim);
    this.#rec = new Float32Array(w.actDim);
    // Both sessions read the same obs buffer: the recovery obs is the one last given to risk().
    const obsT = new ort.Tensor('float32', this.#obs, [1, w.obsDim]);
    this.#cFeeds = { [n.criticObs]: obsT, [n.criticAct]: new ort.Tensor('float32', this.#act, [1, w.actDim]) };
    this.#cFetches = { [n.criticOut]: new ort.Tensor('float32', this.#q, w.qRank === 1 ? [1] : [1, 1]) };
    this.#rFeeds = { [n.recoveryIn]: obsT };
    this.#rFetches = { [n.recoveryOut]: new ort.Tensor('float32', this.#rec, [1, w.actDim]) };
  }

  async risk(obs: ArrayLike<number>, act: ArrayLike<number>): Promise<number> {
    copyInto(this.#obs, obs);
    copyInto(this.#act, act);
    await this.#critic.run(this.#cFeeds, this.#cFetches);
    return this.#q[0] as number;
  }

  async recovery(): Promise<Float32Array> {
    await this.#recovery.run(this.#rFeeds, this.#rFetches);
    return this.#rec;
  }

  async close(): Promise<void> {
    await Promise.all([this.#critic.release(), this.#recovery.release()]);
  }
}
