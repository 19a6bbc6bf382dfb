/**
 * The I/O side of an image model (DESIGN.md decisions 8 and 10: encode once per frame, decide
 * every tick, inference off the thread that owns the robot's I/O). `pushFrame` checks a camera
 * frame and hands it to the encoder's worker (watched-encoder.ts); each tick hands the newest
 * latent, obs and act to the heads' worker behind the watchdog (watchdog.ts): a late answer is
 * the 'deadline' fail-safe, a stuck worker is replaced. While a frame is being encoded the previous
 * latent keeps serving ticks; frames that arrive meanwhile replace each other (only the newest
 * is encoded next). A frame that cannot be read, or no recent frame, is reported to the core
 * through `inputFault` ('bad-frame', 'stale-image'), which answers with the fail-safe. On a
 * hot-swap the incoming model first encodes the frame the running one decides on (`takeOver`),
 * so the first tick after the swap has a latent of its own encoder.
 */
import { checkFrame, FRAME_FAULTS, toRgb, type FrameFault, type ImageFrame } from '../core/image-frame.js';
import { RShieldError } from '../core/errors.js';
import { isStale, type FailsafeReason } from '../core/failsafe.js';
import type { RiskModel } from '../core/risk-model.js';
import type { WatchedRiskModel } from './watchdog.js';
import type { WatchedEncoder } from './watched-encoder.js';

export interface ImageWiring {
  readonly obsDim: number;
  readonly actDim: number;
  readonly latentDim: number;
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
  /** Encoder runs that threw or were given up as stuck (the latent stays as it was and ages). */
  readonly encoderErrors: number;
  /** Encodes given up after stuckAfterMs, and encoder workers replaced after one. */
  readonly encoderStuck: number;
  readonly encoderReplacements: number;
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
  readonly #encoder: WatchedEncoder;
  readonly #heads: WatchedRiskModel;
  readonly #latent: Float32Array;
  /** The frame being encoded, packed RGB (reused while the camera's size stays the same). */
  #rgb = new Uint8Array(0);
  /** The frame whose latent serves ticks (what a swapped-in model encodes first): the other buffer. */
  #latentRgb = new Uint8Array(0);
  #latentWidth = 0;
  #latentHeight = 0;
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

  constructor(encoder: WatchedEncoder, heads: WatchedRiskModel, w: ImageWiring) {
    this.#w = w;
    this.#encoder = encoder;
    this.#heads = heads;
    this.obsDim = w.obsDim;
    this.actDim = w.actDim;
    this.#latent = new Float32Array(w.latentDim);
    // Every tick's hand-off carries the newest latent; it changes only between ticks.
    heads.feedLatent(this.#latent);
  }

  /** The heads' inference watchdog: late hand-offs, busy refusals, worker replacements. */
  get heads(): WatchedRiskModel {
    return this.#heads;
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

  /** A hand-off to the heads' worker, waiting at most until the tick's deadline (LateInference after). */
  risk(obs: ArrayLike<number>, act: ArrayLike<number>): number | Promise<number> {
    return this.#heads.risk(obs, act);
  }

  /** Computed by risk() in the same heads run (handed over with its answer). */
  recovery(): Float32Array {
    return this.#heads.recovery();
  }

  frameStats(): FrameStats {
    return {
      received: this.#received,
      encoded: this.#encoded,
      dropped: this.#dropped,
      bad: { ...this.#bad },
      encoderErrors: this.#encoderErrors,
      encoderStuck: this.#encoder.stats().stuck,
      encoderReplacements: this.#encoder.stats().replacements,
      lastFault: this.#lastFault,
    };
  }

  /** The running shield's deadline and stuck limit, for a model swapped in beside it. */
  setDeadline(deadlineUs: number, stuckAfterMs: number): void {
    this.#heads.setDeadline(deadlineUs, stuckAfterMs);
    this.#encoder.setStuckAfter(stuckAfterMs);
  }

  /**
   * Before this model replaces `prev` (a hot-swap): encodes, with this model's encoder, the frame
   * whose latent serves prev's ticks, and keeps that frame's stamp, so the first tick after the
   * swap decides on the same picture (and ages it as prev would) instead of failing safe with
   * 'stale-image'; an unreadable newest frame stays 'bad-frame'. Rejects with E_MODEL when the
   * encoder fails on that frame or gives a non-finite latent (the swap is then refused). Call it
   * before any pushFrame of this model.
   */
  async takeOver(prev: ImageRiskModel, label: string): Promise<void> {
    if (prev.#latentSeq > 0) {
      const w = prev.#latentWidth;
      const h = prev.#latentHeight;
      // Copied before the await: prev's buffers move on with its next frame.
      const rgb = prev.#latentRgb.slice();
      const stampMs = prev.#latentStampMs;
      let latent: Float32Array;
      try {
        latent = await this.#encoder.encode(rgb, w, h);
      } catch (err) {
        throw new RShieldError('E_MODEL', `${label}: refused: its encoder failed on the running camera frame (${w}×${h}): ${(err as Error).message}`, { path: label }, { cause: err });
      }
      const bad = latent.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new RShieldError('E_MODEL', `${label}: refused: on the running camera frame (${w}×${h}) its encoder gives latent[${bad}] = ${latent[bad]}, not a finite number`, { path: label });
      this.#latent.set(latent);
      this.#latentRgb = rgb;
      this.#latentWidth = w;
      this.#latentHeight = h;
      this.#latentSeq = ++this.#seq;
      this.#latentStampMs = stampMs;
    }
    if (prev.#faultSeq > prev.#latentSeq) {
      this.#faultSeq = ++this.#seq;
      this.#lastFault = prev.#lastFault;
    }
  }

  async close(): Promise<void> {
    await this.#encoding;
    await Promise.all([this.#encoder.close(), this.#heads.close()]);
  }

  async #encodeLoop(first: Pending): Promise<void> {
    let next: Pending | null = first;
    while (next !== null) {
      const { frame, seq } = next;
      try {
        const latent = await this.#encoder.encode(this.#rgbOf(frame), frame.width, frame.height);
        // Ticks read #latent between awaits only: the copy is never seen half done.
        this.#latent.set(latent);
        this.#latentSeq = seq;
        this.#latentStampMs = frame.stampMs;
        this.#keepLatentFrame(frame.width, frame.height);
        this.#encoded++;
      } catch (err) {
        this.#encoderErrors++;
        this.lastError = err;
      }
      next = this.#pending;
      this.#pending = null;
    }
  }

  /** The frame just encoded becomes the latent's frame: the two buffers trade places (no copy, no allocation). */
  #keepLatentFrame(width: number, height: number): void {
    const done = this.#rgb;
    this.#rgb = this.#latentRgb;
    this.#latentRgb = done;
    this.#latentWidth = width;
    this.#latentHeight = height;
  }

  /** The frame as packed RGB in a buffer reused while the camera's size stays the same (posting copies it). */
  #rgbOf(f: ImageFrame): Uint8Array {
    const n = f.width * f.height * 3;
    if (this.#rgb.length !== n) this.#rgb = new Uint8Array(n);
    toRgb(f, this.#rgb);
    return this.#rgb;
  }
}

export { FRAME_FAULTS };
