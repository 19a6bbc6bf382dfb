/**
 * The shield for an image model (docs/images.md): the core's rule on Q_risk(frame, s, a),
 * with the model split as DESIGN.md decision 10 says — the encoder runs when a frame arrives
 * (`pushFrame`), each tick runs the heads on the newest latent (`decide`). A frame older than
 * `imageStaleAfterMs`, or an unreadable one, gives the fail-safe with its own counted reason.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { ImageFrame } from '../core/image-frame.js';
import { ShieldCore, type DecideOptions, type Decision } from '../core/shield-core.js';
import type { ShieldPort } from '../core/shield-port.js';
import type { ShieldStats } from '../core/shield-stats.js';
import type { ModelCard } from '../config/model-card.js';
import { loadModelCard } from '../models/model-dir.js';
import { ImageRiskModel, type FrameStats } from './image-risk-model.js';
import { DEFAULT_DEADLINE_US } from './shield.js';

export interface ImageShieldOptions {
  readonly modelDir: string;
  /** Refuse a model whose card is for another robot. */
  readonly robot?: string;
  /** The profile's `imageStaleAfterMs`: the newest encoded frame may be this old. */
  readonly imageStaleAfterMs: number;
  readonly staleAfterMs?: number;
  readonly deadlineUs?: number;
  readonly epsRisk?: number;
  readonly clock?: Clock;
  /** Intra-op threads of each session (default 1: the tick's heads are tiny). */
  readonly threads?: number;
}

async function session(path: string, threads: number): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new RShieldError('E_MODEL', `${path}: ONNX Runtime cannot load it: ${(err as Error).message}`, { path }, { cause: err });
  }
}

function requireNames(s: ort.InferenceSession, path: string, inputs: readonly string[], outputs: readonly string[]): void {
  for (const [kind, want, have] of [['input', inputs, s.inputNames], ['output', outputs, s.outputNames]] as const) {
    for (const n of want) {
      if (!have.includes(n)) throw new RShieldError('E_MODEL', `${path}: the card names ${kind} '${n}', the graph has ${have.join(', ')}`, { path, [kind]: n });
    }
  }
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
    const card = await loadModelCard(o.modelDir);
    const label = `${card.robot} model ${card.version} (${o.modelDir})`;
    if (o.robot !== undefined && card.robot !== o.robot) throw new RShieldError('E_MODEL', `${label}: model is for robot '${card.robot}', not '${o.robot}'`, { robot: o.robot });
    const { image, encoder, heads } = card;
    if (image === undefined || encoder === undefined || heads === undefined) {
      throw new RShieldError('E_MODEL', `${label}: not an image model (its card has no 'image', 'encoder' and 'heads' parts); load it with Shield`, { robot: card.robot });
    }
    if (!(o.imageStaleAfterMs > 0)) throw new RShieldError('E_CONFIG', `imageStaleAfterMs must be > 0 ms, got ${o.imageStaleAfterMs}`);
    const threads = o.threads ?? 1;
    const encPath = join(o.modelDir, encoder.file);
    const headsPath = join(o.modelDir, heads.file);
    const [enc, hs] = await Promise.all([session(encPath, threads), session(headsPath, threads)]);
    try {
      requireNames(enc, encPath, [image.tensor], [encoder.output]);
      requireNames(hs, headsPath, [heads.inputs.latent, heads.inputs.obs, heads.inputs.act], [heads.outputs.qRisk, heads.outputs.action]);
    } catch (err) {
      await Promise.all([enc.release(), hs.release()]);
      throw err;
    }
    const model = new ImageRiskModel(enc, hs, {
      obsDim: card.obsDim,
      actDim: card.actDim,
      latentDim: image.latentDim,
      image: image.tensor,
      latent: encoder.output,
      heads: { ...heads.inputs, ...heads.outputs },
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
