/**
 * The shield for an image model (docs/images.md): the core's rule on Q_risk(frame, s, a),
 * with the model split as DESIGN.md decision 10 says — the encoder runs when a frame arrives
 * (`pushFrame`), each tick runs the heads on the newest latent (`decide`). Both run in inference
 * workers, never on the calling thread (decision 8): the heads behind the same watchdog as
 * Shield's model (a late answer is the 'deadline' fail-safe, a stuck worker is replaced), the
 * encoder in a worker of its own so that a frame's encoding never delays a tick. A frame older
 * than `imageStaleAfterMs`, or an unreadable one, gives the fail-safe with its own counted reason.
 */
import { RShieldError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { ImageFrame } from '../core/image-frame.js';
import { ShieldCore, type DecideOptions, type Decision } from '../core/shield-core.js';
import type { ShieldPort } from '../core/shield-port.js';
import type { ShieldStats } from '../core/shield-stats.js';
import type { ModelCard } from '../config/model-card.js';
import { ImageRiskModel, type FrameStats } from './image-risk-model.js';
import { checkLocalModel, type LocalModelTrust } from './local-model-trust.js';
import { readModelSource } from './model-source.js';
import type { Logger } from './session-factory.js';
import type { WorkerLoad } from './inference-worker.js';
import { InferenceWorker, WatchedRiskModel, retire, type WatchdogStats } from './watchdog.js';
import { WatchedEncoder } from './watched-encoder.js';
import { DEFAULT_DEADLINE_US, watchdogOptions } from './shield.js';

export interface ImageShieldOptions {
  readonly modelDir: string;
  /** Refuse a model whose card is for another robot. */
  readonly robot?: string;
  /** The profile's `imageStaleAfterMs`: the newest encoded frame may be this old. */
  readonly imageStaleAfterMs: number;
  readonly staleAfterMs?: number;
  /** As Shield's: a heads answer later than this (µs) is the 'deadline' fail-safe. Default DEFAULT_DEADLINE_US. */
  readonly deadlineUs?: number;
  /** As Shield's: a worker busy this long (a tick's heads, or one frame's encoding) is replaced. Default max(100 ms, 10 deadlines). */
  readonly stuckAfterMs?: number;
  /** Time limit for loading and checking each part in its worker (quarantine). Default 20 000 ms. */
  readonly prepareTimeoutMs?: number;
  /** Spin this long on the heads' answer before sleeping. Default DEFAULT_SPIN_US. */
  readonly spinUs?: number;
  /** Refuse a model directory not signed by one of these keys (model.sig.json over every file the card names). */
  readonly trust?: LocalModelTrust;
  readonly epsRisk?: number;
  readonly clock?: Clock;
  /** Intra-op threads of each session (default 1: the tick's heads are tiny). */
  readonly threads?: number;
  readonly logger?: Logger;
}

export class ImageShield implements ShieldPort {
  readonly provider = 'cpu';
  /** Q_risk and π_rec come from one heads run. */
  readonly fused = true;
  readonly recoveryMode = 'policy';
  readonly #core: ShieldCore;

  private constructor(
    readonly card: ModelCard,
    readonly model: ImageRiskModel,
    core: ShieldCore,
  ) {
    this.#core = core;
  }

  static async load(o: ImageShieldOptions): Promise<ImageShield> {
    // The bytes are read once: the signature check and both workers see the same ones.
    const source = await readModelSource(o.modelDir);
    const { card } = source;
    const label = `${card.robot} model ${card.version} (${o.modelDir})`;
    if (o.robot !== undefined && card.robot !== o.robot) throw new RShieldError('E_MODEL', `${label}: model is for robot '${card.robot}', not '${o.robot}'`, { robot: o.robot });
    const { image, encoder, heads } = card;
    if (image === undefined || encoder === undefined || heads === undefined) {
      throw new RShieldError('E_MODEL', `${label}: not an image model (its card has no 'image', 'encoder' and 'heads' parts); load it with Shield`, { robot: card.robot });
    }
    if (!(o.imageStaleAfterMs > 0)) throw new RShieldError('E_CONFIG', `imageStaleAfterMs must be > 0 ms, got ${o.imageStaleAfterMs}`);
    if (o.trust !== undefined) await checkLocalModel(source, o.trust);
    const wd = watchdogOptions(o);
    const base = { fuse: false, provider: 'cpu', requireCuda: false, threads: o.threads ?? 1, spinning: false } as const;
    const headsLoad: WorkerLoad = { ...base, image: 'heads' };
    const encoderLoad: WorkerLoad = { ...base, image: 'encoder' };
    const started = await Promise.allSettled([InferenceWorker.start(source, headsLoad, wd), InferenceWorker.start(source, encoderLoad, wd)]);
    const [hw, ew] = started;
    if (hw.status === 'rejected' || ew.status === 'rejected') {
      for (const s of started) if (s.status === 'fulfilled') await retire(s.value.worker, s.value.h, null);
      throw (hw.status === 'rejected' ? hw.reason : (ew as PromiseRejectedResult).reason) as Error;
    }
    const model = new ImageRiskModel(new WatchedEncoder(ew.value, source, encoderLoad, wd), new WatchedRiskModel(hw.value, source, headsLoad, wd), {
      obsDim: card.obsDim,
      actDim: card.actDim,
      latentDim: image.latentDim,
      imageStaleAfterMs: o.imageStaleAfterMs,
    });
    const core = new ShieldCore(
      {
        model,
        epsRisk: o.epsRisk ?? card.epsRisk,
        hysteresis: card.hysteresis,
        failsafe: Float32Array.from(card.failsafe ?? new Array<number>(card.actDim).fill(0)),
        actLow: Float32Array.from(card.actLow),
        actHigh: Float32Array.from(card.actHigh),
      },
      {
        deadlineUs: o.deadlineUs ?? DEFAULT_DEADLINE_US,
        ...(o.staleAfterMs === undefined ? {} : { staleAfterMs: o.staleAfterMs }),
        ...(o.clock === undefined ? {} : { clock: o.clock }),
      },
    );
    return new ImageShield(card, model, core);
  }

  get modelVersion(): string {
    return this.card.version;
  }

  get epsRisk(): number {
    return this.#core.epsRisk;
  }

  /** A camera frame arrived: checked, then encoded (ticks keep using the previous latent meanwhile). */
  pushFrame(frame: ImageFrame): Promise<void> {
    return this.model.pushFrame(frame);
  }

  decide(obs: Float32Array, proposed: Float32Array, opts?: DecideOptions): Promise<Decision> {
    return this.#core.decide(obs, proposed, opts);
  }

  resetEpisode(): void {
    this.#core.resetEpisode();
  }

  stats(): ShieldStats {
    return this.#core.stats();
  }

  frameStats(): FrameStats {
    return this.model.frameStats();
  }

  /** The heads' inference watchdog: late hand-offs, busy refusals, worker replacements (encoder: frameStats). */
  watchdogStats(): WatchdogStats {
    return this.model.heads.stats();
  }

  /** Image models have no nearest-safe search or planner (the demo's summary asks). */
  nearestSafeStats(): null {
    return null;
  }

  plannerStats(): null {
    return null;
  }

  async close(): Promise<void> {
    await this.#core.close().close();
  }
}
