/**
 * An image model's heads on ONNX Runtime (DESIGN.md decision 10): the RiskModel its inference
 * worker serves each tick — Q_risk and π_rec from one heads run on (latent, obs, act), the latent
 * being the newest encoded frame's, which the I/O side writes into the hand-off before the tick.
 * Lives in the worker (inference-worker.ts); the I/O side holds image-risk-model.ts.
 */
import * as ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import type { RiskModel } from '../core/risk-model.js';
import { copyInto } from './copy-into.js';

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

/** What the card says a graph input or output is: its name, and its width (values per row) with the card field that gives it. */
export interface WiredTensor {
  readonly name: string;
  readonly width?: { readonly values: number; readonly field: string };
}

/**
 * E_MODEL when the graph lacks an input or output the card names, or declares one with another
 * width (its last dimension) than the card gives it: a card that does not match its graphs is
 * refused with both numbers, not left to fail inside ONNX Runtime on the first run.
 */
export function requireWiring(s: ort.InferenceSession, label: string, inputs: readonly WiredTensor[], outputs: readonly WiredTensor[]): void {
  for (const [kind, want, have, meta] of [['input', inputs, s.inputNames, s.inputMetadata], ['output', outputs, s.outputNames, s.outputMetadata]] as const) {
    for (const { name, width } of want) {
      if (!have.includes(name)) throw new RShieldError('E_MODEL', `${label}: the card names ${kind} '${name}', the graph has ${have.join(', ')}`, { path: label, [kind]: name });
      const m = meta.find((x) => x.name === name);
      const last = m?.isTensor === true ? m.shape[m.shape.length - 1] : undefined;
      if (width !== undefined && typeof last === 'number' && last !== width.values) {
        throw new RShieldError('E_MODEL', `${label}: ${kind} '${name}' has ${last} values per row, the card's ${width.field} is ${width.values}`, { path: label, [kind]: name, field: width.field });
      }
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
    requireWiring(
      session,
      label,
      [
        { name: w.latent, width: { values: w.latentDim, field: 'image.latentDim' } },
        { name: w.obs, width: { values: w.obsDim, field: 'obsDim' } },
        { name: w.act, width: { values: w.actDim, field: 'actDim' } },
      ],
      [{ name: w.qRisk }, { name: w.action, width: { values: w.actDim, field: 'actDim' } }],
    );
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
    copyInto(this.#obs, obs);
    copyInto(this.#act, act);
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
