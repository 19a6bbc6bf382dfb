/**
 * An image model on ONNX Runtime (DESIGN.md decision 10: encode once per frame, decide every
 * tick). `pushFrame` checks a camera frame and runs the encoder on it when it arrives; each
 * tick runs only the heads, on the newest latent. While a frame is being encoded the previous
 * latent keeps serving ticks; frames that arrive meanwhile replace each other (only the newest
 * is encoded next). A frame that cannot be read, or no recent frame, is reported to the core
 * through `inputFault` ('bad-frame', 'stale-image'), which answers with the fail-safe.
 */
import * as ort from 'onnxruntime-node';
import { checkFrame, FRAME_FAULTS, toRgb, type FrameFault, type ImageFrame } from '../core/image-frame.js';
import { isStale, type FailsafeReason } from '../core/failsafe.js';
import type { RiskModel } from '../core/risk-model.js';

export interface ImageWiring {
  readonly obsDim: number;
  readonly actDim: number;
  readonly latentDim: number;
  /** Encoder input (uint8 [N, H, W, 3]) and output names. */
  readonly image: string;
  readonly latent: string;
  /** Heads inputs and outputs. */
  readonly heads: { readonly latent: string; readonly obs: string; readonly act: string; readonly qRisk: string; readonly action: string };
  /** The newest encoded frame may be this old (by its stamp) before ticks fail safe. */
  readonly imageStaleAfterMs: number;
}

export interface FrameStats {
  /** Frames handed to pushFrame. */
  readonly received: number;
  /** Frames whose latent served ticks. */
  readonly encoded: number;
  /** Readable frames replaced by a newer one before the encoder got to them. */
  readonly dropped: number;
  /** Unreadable frames by kind. */
  readonly bad: Readonly<Record<FrameFault['kind'], number>>;
  /** Encoder runs that threw (the latent stays as it was and ages). */
  readonly encoderErrors: number;
  /** Why the last unreadable frame was refused, with the numbers; null if none was. */
  readonly lastFault: string | null;
}

interface Pending {
  frame: ImageFrame;
  seq: number;
}

export class ImageRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #w: ImageWiring;
  readonly #encoder: ort.InferenceSession;
  readonly #heads: ort.InferenceSession;
  readonly #obs: Float32Array;
  readonly #act: Float32Array;
  readonly #latent: Float32Array;
  readonly #nextLatent: Float32Array;
  readonly #q = new Float32Array(1);
  readonly #rec: Float32Array;
  readonly #feeds: Record<string, ort.Tensor>;
  readonly #fetches: Record<string, ort.Tensor>;
  readonly #encFetches: Record<string, ort.Tensor>;
  #rgb = new Uint8Array(0);
  #rgbTensor: ort.Tensor | null = null;
  #rgbSize = '';
  #seq = 0;
  #latentSeq = 0;
  #latentStampMs = 0;
  #faultSeq = 0;
  #encoding: Promise<void> | null = null;
  #pending: Pending | null = null;
  #received = 0;
  #encoded = 0;
  #dropped = 0;
  #encoderErrors = 0;
  #lastFault: string | null = null;
  readonly #bad: Record<FrameFault['kind'], number> = { encoding: 0, size: 0, step: 0, truncated: 0 };
  /** The last error the encoder threw (for logs). */
  lastError: unknown = null;

  constructor(encoder: ort.InferenceSession, heads: ort.InferenceSession, w: ImageWiring) {
    this.#w = w;
    this.#encoder = encoder;
    this.#heads = heads;
    this.obsDim = w.obsDim;
    this.actDim = w.actDim;
    this.#obs = new Float32Array(w.obsDim);
    this.#act = new Float32Array(w.actDim);
    this.#latent = new Float32Array(w.latentDim);
    this.#nextLatent = new Float32Array(w.latentDim);
    this.#rec = new Float32Array(w.actDim);
    const h = w.heads;
    this.#feeds = {
      [h.latent]: new ort.Tensor('float32', this.#latent, [1, w.latentDim]),
      [h.obs]: new ort.Tensor('float32', this.#obs, [1, w.obsDim]),
      [h.act]: new ort.Tensor('float32', this.#act, [1, w.actDim]),
    };
    this.#fetches = { [h.qRisk]: new ort.Tensor('float32', this.#q, [1, 1]), [h.action]: new ort.Tensor('float32', this.#rec, [1, w.actDim]) };
    this.#encFetches = { [w.latent]: new ort.Tensor('float32', this.#nextLatent, [1, w.latentDim]) };
  }

  /**
   * A camera frame arrived: refused and counted when unreadable (ticks fail safe with
   * 'bad-frame' until a newer readable frame is encoded), else encoded. Resolves when the
   * encoder is idle again; never rejects.
   */
  pushFrame(frame: ImageFrame): Promise<void> {
    this.#received++;
    const seq = ++this.#seq;
    const fault = checkFrame(frame, null);
    if (fault !== null) {
      this.#bad[fault.kind]++;
      this.#lastFault = fault.message;
      this.#faultSeq = seq;
      return this.#encoding ?? Promise.resolve();
    }
    if (this.#encoding !== null) {
      if (this.#pending !== null) this.#dropped++;
      this.#pending = { frame, seq };
      return this.#encoding;
    }
    this.#encoding = this.#encodeLoop({ frame, seq }).finally(() => {
      this.#encoding = null;
    });
    return this.#encoding;
  }

  /** 'bad-frame' when the newest frame was unreadable, 'stale-image' when no encoded frame is recent enough. */
  inputFault(nowMs: number): FailsafeReason | null {
    if (this.#faultSeq > this.#latentSeq) return 'bad-frame';
    if (this.#latentSeq === 0 || isStale(this.#latentStampMs, nowMs, this.#w.imageStaleAfterMs)) return 'stale-image';
    return null;
  }

  async risk(obs: ArrayLike<number>, act: ArrayLike<number>): Promise<number> {
    for (let i = 0; i < this.#obs.length; i++) this.#obs[i] = obs[i] as number;
    for (let i = 0; i < this.#act.length; i++) this.#act[i] = act[i] as number;
    await this.#heads.run(this.#feeds, this.#fetches);
    return this.#q[0] as number;
  }

  /** Computed by risk() in the same heads run. */
  recovery(): Float32Array {
    return this.#rec;
  }

  frameStats(): FrameStats {
    return {
      received: this.#received,
      encoded: this.#encoded,
      dropped: this.#dropped,
      bad: { ...this.#bad },
      encoderErrors: this.#encoderErrors,
      lastFault: this.#lastFault,
    };
  }

  async close(): Promise<void> {
    await this.#encoding;
    await Promise.all([this.#encoder.release(), this.#heads.release()]);
  }

  async #encodeLoop(first: Pending): Promise<void> {
    let next: Pending | null = first;
    while (next !== null) {
      const { frame, seq } = next;
      try {
        await this.#encoder.run({ [this.#w.image]: this.#rgbOf(frame) }, this.#encFetches);
        // Ticks read #latent between awaits only: the copy is never seen half done.
        this.#latent.set(this.#nextLatent);
        this.#latentSeq = seq;
        this.#latentStampMs = frame.stampMs;
        this.#encoded++;
      } catch (err) {
        this.#encoderErrors++;
        this.lastError = err;
      }
      next = this.#pending;
      this.#pending = null;
    }
  }

  /** The frame as packed RGB in a tensor reused while the camera's size stays the same. */
  #rgbOf(f: ImageFrame): ort.Tensor {
    const size = `${f.width}x${f.height}`;
    if (this.#rgbTensor === null || size !== this.#rgbSize) {
      this.#rgb = new Uint8Array(f.width * f.height * 3);
      this.#rgbTensor = new ort.Tensor('uint8', this.#rgb, [1, f.height, f.width, 3]);
      this.#rgbSize = size;
    }
    toRgb(f, this.#rgb);
    return this.#rgbTensor;
  }
}

export { FRAME_FAULTS };
