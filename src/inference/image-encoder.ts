/**
 * An image model's frame encoder on ONNX Runtime (DESIGN.md decision 10): packed RGB
 * uint8 [1, H, W, 3] → latent [1, latentDim]. Lives in its own inference worker
 * (inference-worker.ts), so a frame's encoding never holds the thread that owns the robot's
 * I/O, nor the worker that runs the tick's heads.
 */
import * as ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import { requireWiring } from './image-heads-model.js';

export interface EncoderWiring {
  readonly image: string;
  readonly latent: string;
  readonly latentDim: number;
}

export class ImageEncoder {
  readonly #session: ort.InferenceSession;
  readonly #w: EncoderWiring;
  readonly #label: string;
  readonly #fetches: Record<string, ort.Tensor>;
  readonly #out: Float32Array;

  constructor(session: ort.InferenceSession, w: EncoderWiring, label: string) {
    requireWiring(session, label, [{ name: w.image }], [{ name: w.latent, width: { values: w.latentDim, field: 'image.latentDim' } }]);
    this.#session = session;
    this.#w = w;
    this.#label = label;
    this.#out = new Float32Array(w.latentDim);
    this.#fetches = { [w.latent]: new ort.Tensor('float32', this.#out, [1, w.latentDim]) };
  }

  /** The latent of one frame (reused buffer: copy it before the next call). */
  async encode(rgb: Uint8Array, width: number, height: number): Promise<Float32Array> {
    if (rgb.length !== width * height * 3) throw new RShieldError('E_MODEL', `${this.#label}: frame has ${rgb.length} bytes, ${width}×${height} RGB needs ${width * height * 3}`);
    await this.#session.run({ [this.#w.image]: new ort.Tensor('uint8', rgb, [1, height, width, 3]) }, this.#fetches);
    return this.#out;
  }

  /** The quarantine check: one black frame of the camera's size gives a finite latent. */
  async check(width: number, height: number): Promise<void> {
    const z = await this.encode(new Uint8Array(width * height * 3), width, height);
    const bad = z.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RShieldError('E_MODEL', `${this.#label}: a black ${width}×${height} frame gives latent[${bad}] = ${z[bad]}, not a finite number`);
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
