/**
 * The shield for an image model (docs/images.md): the core's rule on Q_risk(frame, s, a),
 * with the model split as DESIGN.md decision 10 says — the encoder runs when a frame arrives
 * (`pushFrame`), each tick runs the heads on the newest latent (`decide`). Both run in inference
 * workers, never on the calling thread (decision 8): the heads behind the same watchdog as
 * Shield's model (a late answer is the 'deadline' fail-safe, a stuck worker is replaced), the
 * encoder in a worker of its own so that a frame's encoding never delays a tick. A frame older
 * than `imageStaleAfterMs`, or an unreadable one, gives the fail-safe with its own counted reason.
 * Hot-swap as Shield's (the core's SwappableShieldPort): `prepare` starts both workers of a new
 * version beside the running ones and checks them there (quarantine), `swap` has the new encoder
 * encode the running frame, installs the new model between ticks and only then closes the old
 * workers; a version that fails anywhere on the way is refused and the running one keeps deciding.
 */
import { RShieldError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { ImageFrame } from '../core/image-frame.js';
import { ShieldCore, type CoreModel, type DecideOptions, type Decision } from '../core/shield-core.js';
import type { SwappableShieldPort } from '../core/shield-port.js';
import type { ShieldStats } from '../core/shield-stats.js';
import type { ModelCard } from '../config/model-card.js';
import { ImageRiskModel, type FrameStats } from './image-risk-model.js';
import { checkLocalModel, type LocalModelTrust } from './local-model-trust.js';
import { modelSourceOf } from './model-source.js';
import type { ModelBundle } from '../models/model-dir.js';
import type { Logger } from './session-factory.js';
import type { WorkerLoad } from './inference-worker.js';
import { InferenceWorker, WatchedRiskModel, retire, type WatchdogStats } from './watchdog.js';
import { WatchedEncoder } from './watched-encoder.js';
import { DEFAULT_DEADLINE_US, watchdogOptions } from './shield.js';

export interface ImageShieldOptions {
  readonly modelDir: string;
  /**
   * Verified bytes of the model (card and every file it names): loaded from memory instead of
   * `modelDir`, which then only names the model in messages (a received update, as for Shield).
   */
  readonly bundle?: ModelBundle;
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

/** Frame counts summed over the models a shield has run (lastFault: the newest). */
function addFrameStats(a: FrameStats, b: FrameStats): FrameStats {
  return {
    received: a.received + b.received,
    encoded: a.encoded + b.encoded,
    dropped: a.dropped + b.dropped,
    bad: { encoding: a.bad.encoding + b.bad.encoding, size: a.bad.size + b.bad.size, step: a.bad.step + b.bad.step, truncated: a.bad.truncated + b.bad.truncated },
    encoderErrors: a.encoderErrors + b.encoderErrors,
    encoderStuck: a.encoderStuck + b.encoderStuck,
    encoderReplacements: a.encoderReplacements + b.encoderReplacements,
    lastFault: b.lastFault ?? a.lastFault,
  };
}

const NO_FRAMES: FrameStats = { received: 0, encoded: 0, dropped: 0, bad: { encoding: 0, size: 0, step: 0, truncated: 0 }, encoderErrors: 0, encoderStuck: 0, encoderReplacements: 0, lastFault: null };

/** An image model version loaded and checked in its two workers beside a running shield, ready for `swap`, or to `close`. */
export class PreparedImageModel {
  readonly card: ModelCard;
  /** Names the version in messages: robot, version, directory. */
  readonly label: string;
  readonly #model: ImageRiskModel;
  readonly #core: CoreModel;
  #state: 'ready' | 'used' | 'closed' = 'ready';

  /** @internal use ImageShield.prepare */
  constructor(card: ModelCard, label: string, model: ImageRiskModel, core: CoreModel) {
    this.card = card;
    this.label = label;
    this.#model = model;
    this.#core = core;
  }

  /** @internal */
  take(): { model: ImageRiskModel; core: CoreModel } {
    if (this.#state !== 'ready') throw new RShieldError('E_USAGE', `prepared image model ${this.card.version} was already ${this.#state === 'used' ? 'swapped in' : 'closed'}`);
    this.#state = 'used';
    return { model: this.#model, core: this.#core };
  }

  /** Stops the workers of a version that will not be swapped in. */
  async close(): Promise<void> {
    if (this.#state !== 'ready') return;
    this.#state = 'closed';
    await this.#model.close();
  }
}

export class ImageShield implements SwappableShieldPort<PreparedImageModel, ModelBundle> {
  readonly provider = 'cpu';
  /** Q_risk and π_rec come from one heads run. */
  readonly fused = true;
  readonly recoveryMode = 'policy';
  readonly #core: ShieldCore;
  /** The load options: every later version is prepared exactly like the first (its own modelDir). */
  readonly #prepareOptions: ImageShieldOptions;
  readonly #deadlineUs: number;
  readonly #stuckAfterMs: number;
  #card: ModelCard;
  #model: ImageRiskModel;
  /** Frame counts of the models swapped out. */
  #framesBefore: FrameStats = NO_FRAMES;
  #closed = false;

  private constructor(card: ModelCard, model: ImageRiskModel, core: ShieldCore, o: ImageShieldOptions) {
    this.#card = card;
    this.#model = model;
    this.#core = core;
    this.#prepareOptions = o;
    const wd = watchdogOptions(o);
    this.#deadlineUs = wd.deadlineUs;
    this.#stuckAfterMs = wd.stuckAfterMs;
  }

  static async load(o: ImageShieldOptions): Promise<ImageShield> {
    const prepared = await ImageShield.prepare(o);
    const { model, core } = prepared.take();
    const sc = new ShieldCore(core, {
      deadlineUs: o.deadlineUs ?? DEFAULT_DEADLINE_US,
      ...(o.staleAfterMs === undefined ? {} : { staleAfterMs: o.staleAfterMs }),
      ...(o.clock === undefined ? {} : { clock: o.clock }),
    });
    return new ImageShield(prepared.card, model, sc, o);
  }

  /**
   * Loads and checks an image model in its two workers (quarantine: the heads on a zero latent,
   * the encoder on a black frame of the card's camera) without installing it; see `swap`.
   * Refuses with E_MODEL (E_SIGNATURE under `trust`) naming what is wrong.
   */
  static async prepare(o: ImageShieldOptions): Promise<PreparedImageModel> {
    // The bytes are read once (or are the verified ones): the signature check and both workers see the same ones.
    const source = await modelSourceOf(o.modelDir, o.bundle);
    const { card } = source;
    const label = `${card.robot} model ${card.version} (${o.modelDir})`;
    if (o.robot !== undefined && card.robot !== o.robot) throw new RShieldError('E_MODEL', `${label}: model is for robot '${card.robot}', not '${o.robot}'`, { robot: o.robot });
    const { image, encoder, heads } = card;
    if (image === undefined || encoder === undefined || heads === undefined) {
      throw new RShieldError('E_MODEL', `${label}: not an image model (its card has no 'image', 'encoder' and 'heads' parts); load it with Shield`, { robot: card.robot });
    }
    if (!(o.imageStaleAfterMs > 0)) throw new RShieldError('E_CONFIG', `imageStaleAfterMs must be > 0 ms, got ${o.imageStaleAfterMs}`);
    const epsRisk = o.epsRisk ?? card.epsRisk;
    if (!(epsRisk >= 0 && epsRisk <= 1)) throw new RShieldError('E_CONFIG', `epsRisk ${epsRisk} is outside [0, 1]`);
    if (!(card.hysteresis >= 0 && card.hysteresis <= epsRisk)) throw new RShieldError('E_MODEL', `${label}: hysteresis ${card.hysteresis} must be in [0, epsRisk = ${epsRisk}]`, { robot: card.robot });
    if (o.trust !== undefined) await checkLocalModel(source, o.trust);
    const wd = watchdogOptions(o);
    // The image heads and encoder run on ONNX Runtime's public session (no direct twin yet).
    const base = { fuse: false, provider: 'cpu', requireCuda: false, threads: o.threads ?? 1, spinning: false, directRun: false } as const;
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
    return new PreparedImageModel(card, label, model, {
      model,
      epsRisk,
      hysteresis: card.hysteresis,
      failsafe: Float32Array.from(card.failsafe ?? new Array<number>(card.actDim).fill(0)),
      actLow: Float32Array.from(card.actLow),
      actHigh: Float32Array.from(card.actHigh),
    });
  }

  /** Prepares another version with this shield's load options (SwappableShieldPort); `verified`: its checked bytes. */
  prepare(modelDir: string, verified?: ModelBundle): Promise<PreparedImageModel> {
    // As Shield's: updates arrive verified by the model receiver's signature check; local trust
    // (model.sig.json) applies to the starting directory only.
    const { trust: _trust, bundle: _bundle, ...options } = this.#prepareOptions;
    return ImageShield.prepare({ ...options, modelDir, ...(verified === undefined ? {} : { bundle: verified }) });
  }

  /** Stops the workers of a prepared version that will not be swapped in. */
  release(prepared: PreparedImageModel): void {
    prepared.close().catch(() => undefined);
  }

  /**
   * Installs a prepared version between ticks (never during a decide) and then stops the old
   * workers; resolves with the previous version. First the new encoder encodes the frame the
   * running model decides on (ImageRiskModel.takeOver), so no tick after the swap waits for a
   * frame. Refuses (E_MODEL) a version for another robot, with other dims, or whose encoder fails
   * on that frame; the new workers are then stopped and the running model stays.
   */
  async swap(next: PreparedImageModel): Promise<string> {
    if (this.#closed) throw new RShieldError('E_USAGE', 'swap() on a closed shield');
    const cur = this.#card;
    if (next.card.robot !== cur.robot) {
      throw new RShieldError('E_MODEL', `model ${next.card.version} is for robot '${next.card.robot}', the shield runs '${cur.robot}'`, { robot: cur.robot });
    }
    const { model, core } = next.take();
    // The running shield's deadline applies to every model it runs, whatever it was prepared with.
    model.setDeadline(this.#deadlineUs, this.#stuckAfterMs);
    const previous = this.#model;
    let old;
    try {
      await model.takeOver(previous, next.label);
      old = await this.#core.swap(core);
    } catch (err) {
      await model.close();
      throw err;
    }
    const version = cur.version;
    this.#framesBefore = addFrameStats(this.#framesBefore, previous.frameStats());
    this.#card = next.card;
    this.#model = model;
    // Installed and ready: only now do the old workers stop.
    await old.close();
    return version;
  }

  get card(): ModelCard {
    return this.#card;
  }

  /** The running version's model (its heads' watchdog, its encoder). */
  get model(): ImageRiskModel {
    return this.#model;
  }

  get modelVersion(): string {
    return this.#card.version;
  }

  get epsRisk(): number {
    return this.#core.epsRisk;
  }

  /** A camera frame arrived: checked, then encoded (ticks keep using the previous latent meanwhile). */
  pushFrame(frame: ImageFrame): Promise<void> {
    return this.#model.pushFrame(frame);
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

  /** Frame counts over every version this shield has run (lastFault: the newest). */
  frameStats(): FrameStats {
    return addFrameStats(this.#framesBefore, this.#model.frameStats());
  }

  /** The running version's heads watchdog: late hand-offs, busy refusals, worker replacements (encoder: frameStats). */
  watchdogStats(): WatchdogStats {
    return this.#model.heads.stats();
  }

  /** Image models have no nearest-safe search or planner (the demo's summary asks). */
  nearestSafeStats(): null {
    return null;
  }

  plannerStats(): null {
    return null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#core.close().close();
  }
}
