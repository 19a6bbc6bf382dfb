/**
 * An image model's heads on ONNX Runtime (DESIGN.md decision 10): the RiskModel its inference
 * worker serves each tick — Q_risk and π_rec from one heads run on (latent, obs, act), the latent
 * being the newest encoded frame's, which the I/O side writes into the hand-off before the tick.
 * Lives in the worker (inference-worker.ts); the I/O side holds image-risk-model.ts.
 */
import * as ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import type { RiskModel } from '../core/risk-model.js';

export interface HeadsWiring {
  readonly obsDim: number;
  readonly actDim: number;
  readonly latentDim: number;
  readonly latent: string;
  readonly obs: string;
  readonly act: string;
  readonly qRisk: string;
  readonly action: string;
}

/** E_MODEL when the graph lacks an input or output the card names. */
export function requireNames(s: ort.InferenceSession, label: string, inputs: readonly string[], outputs: readonly string[]): void {
  for (const [kind, want, have] of [['input', inputs, s.inputNames], ['output', outputs, s.outputNames]] as const) {
    for (const n of want) {
      if (!have.includes(n)) throw new RShieldError('E_MODEL', `${label}: the card names ${kind} '${n}', the graph has ${have.join(', ')}`, { path: label, [kind]: n });
    }
  }
}

export class ImageHeadsModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #session: ort.InferenceSession;
  readonly #latentIn: Float32Array;
  readonly #latent: Float32Array;
  readonly #obs: Float32Array;
  readonly #act: Float32Array;
  readonly #q = new Float32Array(1);
  readonly #rec: Float32Array;
  readonly #feeds: Record<string, ort.Tensor>;
  readonly #fetches: Record<string, ort.Tensor>;

  /** `latentIn`: where the newest latent is found at each tick (the hand-off's latent slot). */
  constructor(session: ort.InferenceSession, w: HeadsWiring, latentIn: Float32Array, label: string) {
    requireNames(session, label, [w.latent, w.obs, w.act], [w.qRisk, w.action]);
    if (latentIn.length !== w.latentDim) throw new RShieldError('E_MODEL', `${label}: latent slot has ${latentIn.length} values, the card's latentDim is ${w.latentDim}`);
    this.#session = session;
    this.obsDim = w.obsDim;
    this.actDim = w.actDim;
    this.#latentIn = latentIn;
    this.#latent = new Float32Array(w.latentDim);
    this.#obs = new Float32Array(w.obsDim);
    this.#act = new Float32Array(w.actDim);
    this.#rec = new Float32Array(w.actDim);
    this.#feeds = {
      [w.latent]: new ort.Tensor('float32', this.#latent, [1, w.latentDim]),
      [w.obs]: new ort.Tensor('float32', this.#obs, [1, w.obsDim]),
      [w.act]: new ort.Tensor('float32', this.#act, [1, w.actDim]),
    };
    this.#fetches = { [w.qRisk]: new ort.Tensor('float32', this.#q, [1, 1]), [w.action]: new ort.Tensor('float32', this.#rec, [1, w.actDim]) };
  }

  async risk(obs: ArrayLike<number>, act: ArrayLike<number>): Promise<number> {
    // Copied out of shared memory: ONNX Runtime reads its own buffers, never the hand-off's.
    this.#latent.set(this.#latentIn);
    for (let i = 0; i < this.#obs.length; i++) this.#obs[i] = obs[i] as number;
    for (let i = 0; i < this.#act.length; i++) this.#act[i] = act[i] as number;
    await this.#session.run(this.#feeds, this.#fetches);
    return this.#q[0] as number;
  }

  /** Computed by risk() in the same heads run. */
  recovery(): Float32Array {
    return this.#rec;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
