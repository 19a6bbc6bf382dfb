/**
 * The I/O side of an image model's encoder (DESIGN.md decisions 8 and 10): each frame is posted
 * to the encoder's own inference worker and its latent comes back as a message, so the thread
 * that owns the robot's I/O never runs the encoder and never waits for it. An encode that has not
 * answered after `stuckAfterMs` is given up (the latent ages, ticks fail safe with 'stale-image')
 * and its worker is retired and replaced from the same bytes, as watchdog.ts does for the heads.
 */
import { InferenceWorker, MAX_STUCK_THREADS, retire, stuckInferenceThreads, type WatchdogOptions } from './watchdog.js';
import type { EncodeRequest, WorkerLoad, WorkerMessage } from './inference-worker.js';
import type { ModelSource } from './model-source.js';

export interface EncoderWatchStats {
  /** Encodes given up after stuckAfterMs. */
  readonly stuck: number;
  /** Encoder workers replaced after being stuck. */
  readonly replacements: number;
}

interface Waiting {
  readonly seq: number;
  readonly resolve: (latent: Float32Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class WatchedEncoder {
  readonly #source: ModelSource;
  readonly #load: WorkerLoad;
  #o: WatchdogOptions;
  #w: InferenceWorker | null = null;
  #seq = 0;
  #waiting: Waiting | null = null;
  #stats = { stuck: 0, replacements: 0 };
  #replacing = false;
  #closed = false;

  constructor(first: InferenceWorker, source: ModelSource, load: WorkerLoad, o: WatchdogOptions) {
    this.#source = source;
    this.#load = load;
    this.#o = o;
    this.#attach(first);
  }

  /** The shield that installs this encoder sets its own stuck limit on it. */
  setStuckAfter(stuckAfterMs: number): void {
    this.#o = { ...this.#o, stuckAfterMs };
  }

  stats(): EncoderWatchStats {
    return { ...this.#stats };
  }

  /**
   * The latent of one packed RGB frame (a new array). Rejects when the encoder threw, when no
   * encoder worker is ready (a stuck one being replaced), or after stuckAfterMs without an answer.
   * One encode at a time: image-risk-model.ts queues frames.
   */
  encode(rgb: Uint8Array, width: number, height: number): Promise<Float32Array> {
    const w = this.#w;
    if (w === null) return Promise.reject(new Error('no image encoder is ready (a stuck one is being replaced)'));
    if (this.#waiting !== null) return Promise.reject(new Error('the image encoder is busy with another frame'));
    const seq = ++this.#seq;
    return new Promise<Float32Array>((resolve, reject) => {
      const timer = setTimeout(() => this.#stuck(seq), this.#o.stuckAfterMs);
      this.#waiting = { seq, resolve, reject, timer };
      // A busy worker keeps the process alive: an exit never stops it inside ONNX Runtime.
      w.worker.ref();
      const req: EncodeRequest = { type: 'encode', seq, width, height, rgb };
      w.worker.postMessage(req);
    });
  }

  #attach(w: InferenceWorker): void {
    this.#w = w;
    w.worker.on('message', (m: WorkerMessage) => {
      if ((m.type !== 'latent' && m.type !== 'encode-error') || this.#w !== w) return;
      const wait = this.#waiting;
      if (wait === null || wait.seq !== m.seq) return;
      this.#waiting = null;
      clearTimeout(wait.timer);
      w.worker.unref();
      if (m.type === 'latent') wait.resolve(m.latent);
      else wait.reject(new Error(m.message));
    });
  }

  #stuck(seq: number): void {
    const wait = this.#waiting;
    const old = this.#w;
    if (wait === null || wait.seq !== seq || old === null) return;
    this.#waiting = null;
    this.#stats.stuck++;
    wait.reject(new Error(`the image encoder did not answer within ${this.#o.stuckAfterMs} ms: its worker is replaced`));
    this.#w = null;
    // Told to stop now; it acts on that when its run returns (never terminated inside ONNX Runtime).
    void retire(old.worker, old.h, null);
    this.#respawn();
  }

  #respawn(): void {
    if (this.#closed || this.#replacing) return;
    this.#replacing = true;
    const retry = (): void => {
      this.#replacing = false;
      setTimeout(() => this.#respawn(), this.#o.stuckAfterMs).unref();
    };
    if (stuckInferenceThreads() >= MAX_STUCK_THREADS) return retry();
    InferenceWorker.start(this.#source, this.#load, this.#o).then((w) => {
      this.#replacing = false;
      if (this.#closed) return void retire(w.worker, w.h, null);
      this.#attach(w);
      this.#stats.replacements++;
    }, retry);
  }

  /** Stops the worker (a stuck one stops when its run returns, counted in stuckInferenceThreads). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const w = this.#w;
    this.#w = null;
    const wait = this.#waiting;
    this.#waiting = null;
    if (wait !== null) {
      clearTimeout(wait.timer);
      wait.reject(new Error('the shield was closed'));
    }
    if (w !== null) await retire(w.worker, w.h, null);
  }
}
