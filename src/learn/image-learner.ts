/**
 * The Recovery RL learner for camera robots (reference §2 image critic, §3.1 MF recovery):
 * the same TD regression, Polyak target and recovery loss as SafetyLearner, on
 * (frame, state, action). Each update is one ONNX graph per network; frames arrive as float
 * 0..255 HWC and go through the same in-graph pre-processing as at run time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { ModelCardInput } from '../config/model-card.js';
import type { ImageEncoding } from '../core/image-frame.js';
import { Rng } from '../core/rng.js';
import { exportInference, GraphBuilder, inferenceGraph, ParamSet, TrainingProgram } from '../nn/index.js';
import { CRITIC_FILE, criticUpdate, RECOVERY_FILE, recoveryUpdate, type SafetyLearnerOptions, type UpdateResult } from './safety-learner.js';
import type { Batch } from './batch-sampler.js';
import { defaultImageSizes, imageCriticHeads, imageEncoder, imageRecoveryHead, type ImageNetworkSizes } from './image-networks.js';

export interface ImageLearnerOptions extends Omit<SafetyLearnerOptions, 'actLow' | 'actHigh' | 'sizes'> {
  /** The camera's frame size (training input; exported graphs take any size). */
  readonly camera: { readonly width: number; readonly height: number };
  readonly sizes?: ImageNetworkSizes;
}

/** A minibatch plus its frames: float 0..255, [B, H, W, 3] each. */
export interface ImageBatch extends Batch {
  readonly image: Float32Array;
  readonly next_image: Float32Array;
}

/** The exported graphs of an image model. */
export interface ImageModelOnnx {
  /** image uint8 [N, H, W, 3] → latent [N, L]: run once per frame. */
  readonly encoder: Uint8Array;
  /** latent, obs, act → q_risk [N, 1], action [N, A]: run every tick on the newest latent. */
  readonly heads: Uint8Array;
  /** image, obs, act → q_risk: the whole critic in one graph (checks, offline scoring). */
  readonly critic: Uint8Array;
  /** image, obs → action: the whole recovery policy in one graph. */
  readonly recovery: Uint8Array;
}

export const ENCODER_FILE = 'encoder.onnx';
export const HEADS_FILE = 'heads.onnx';

/** What a model directory's card needs beyond what the learner knows. */
export type ImageCardParts = Omit<ModelCardInput, 'format' | 'obsDim' | 'actDim' | 'gammaRisk' | 'critic' | 'recovery' | 'image' | 'encoder' | 'heads'> & {
  readonly camera: { readonly width: number; readonly height: number; readonly encoding: ImageEncoding };
};

export const IMAGE_TENSORS = {
  image: 'image',
  latent: 'latent',
  obs: 'obs',
  act: 'act',
  qRisk: 'q_risk',
  action: 'action',
} as const;

export class ImageLearner {
  readonly sizes: ImageNetworkSizes;
  readonly #result: UpdateResult = { criticLoss: 0, recoveryLoss: 0 };
  readonly #recoveryFeed: { image: Float32Array; obs: Float32Array };
  updates = 0;

  private constructor(
    readonly opts: ImageLearnerOptions,
    private readonly criticParams: ParamSet,
    private readonly policyParams: ParamSet,
    private readonly criticStep: TrainingProgram,
    private readonly recoveryStep: TrainingProgram,
  ) {
    this.sizes = opts.sizes ?? defaultImageSizes;
    const { batch: B, obsDim: S, camera: c } = opts;
    this.#recoveryFeed = { image: new Float32Array(B * c.height * c.width * 3), obs: new Float32Array(B * S) };
  }

  static async create(opts: ImageLearnerOptions): Promise<ImageLearner> {
    const { obsDim: S, actDim: A, batch: B, normalizer: n } = opts;
    const { height: H, width: W } = opts.camera;
    const sizes = opts.sizes ?? defaultImageSizes;
    const rng = new Rng(opts.seed);
    const criticParams = ParamSet.create({ rng: rng.fork() });
    const policyParams = ParamSet.create({ rng: rng.fork() });

    // y = c + (1 − done)·γ_risk·max(Q1′, Q2′)(o′, s′, a′); L = MSE(Q1, y) + MSE(Q2, y).
    const g = new GraphBuilder('image_critic_step');
    const image = g.input('image', [B, H, W, 3]);
    const obs = g.input('obs', [B, S]);
    const act = g.input('act', [B, A]);
    const cost = g.input('cost', [B, 1]);
    const nextImage = g.input('next_image', [B, H, W, 3]);
    const nextObs = g.input('next_obs', [B, S]);
    const nextAct = g.input('next_act', [B, A]);
    const done = g.input('done', [B, 1]);
    const q = imageCriticHeads(g, criticParams, imageEncoder(g, criticParams, image, sizes), obs, act, n, sizes);
    const target = criticParams.copy('target');
    const qNext = imageCriticHeads(g, target, imageEncoder(g, target, nextImage, sizes), nextObs, nextAct, n, sizes);
    criticUpdate(g, criticParams, target, q, qNext.max, cost, done, opts);

    // Recovery: minimise mean max(Q1, Q2)(o, s, ã), ã = π_rec(latent, s) reparameterised;
    // only the policy's parameters move (the encoder and heads are read).
    const r = new GraphBuilder('image_recovery_step');
    const rImage = r.input('image', [B, H, W, 3]);
    const rObs = r.input('obs', [B, S]);
    const latent = imageEncoder(r, criticParams, rImage, sizes);
    const pol = imageRecoveryHead(r, policyParams, latent, rObs, n, r.noise('eps', [B, A]), sizes);
    recoveryUpdate(r, policyParams, imageCriticHeads(r, criticParams, latent, rObs, pol.sample!, n, sizes).max, opts.lr);

    const threads = opts.threads ?? 2;
    const criticStep = await TrainingProgram.compile(g, { threads, rng: rng.fork() });
    const recoveryStep = await TrainingProgram.compile(r, { threads, rng: rng.fork() });
    return new ImageLearner(opts, criticParams, policyParams, criticStep, recoveryStep);
  }

  /** One critic update and one recovery update on the same batch. */
  async update(batch: ImageBatch): Promise<UpdateResult> {
    const c = await this.criticStep.step(batch as unknown as Record<string, Float32Array>);
    this.#result.criticLoss = c.loss ?? Number.NaN;
    this.#recoveryFeed.image.set(batch.image);
    this.#recoveryFeed.obs.set(batch.obs);
    const r = await this.recoveryStep.step(this.#recoveryFeed);
    this.#result.recoveryLoss = r.loss ?? Number.NaN;
    this.updates++;
    return this.#result;
  }

  exportOnnx(): ImageModelOnnx {
    const { obsDim: S, actDim: A, normalizer: n } = this.opts;
    const sizes = this.sizes;
    const T = IMAGE_TENSORS;
    const frame = (g: GraphBuilder) => g.input(T.image, ['N', 'H', 'W', 3], { type: 'uint8' });

    const eg = inferenceGraph('image_encoder');
    eg.output(T.latent, imageEncoder(eg, this.criticParams, frame(eg), sizes));

    const hg = inferenceGraph('image_heads');
    const latent = hg.input(T.latent, ['N', sizes.latent]);
    const hObs = hg.input(T.obs, ['N', S]);
    hg.output(T.qRisk, imageCriticHeads(hg, this.criticParams, latent, hObs, hg.input(T.act, ['N', A]), n, sizes).max);
    hg.output(T.action, imageRecoveryHead(hg, this.policyParams, latent, hObs, n, undefined, sizes).mean);

    const cg = inferenceGraph('image_critic');
    const cObs = cg.input(T.obs, ['N', S]);
    const cz = imageEncoder(cg, this.criticParams, frame(cg), sizes);
    cg.output(T.qRisk, imageCriticHeads(cg, this.criticParams, cz, cObs, cg.input(T.act, ['N', A]), n, sizes).max);

    const rg = inferenceGraph('image_recovery');
    const rObs = rg.input(T.obs, ['N', S]);
    const rz = imageEncoder(rg, this.criticParams, frame(rg), sizes);
    rg.output(T.action, imageRecoveryHead(rg, this.policyParams, rz, rObs, n, undefined, sizes).mean);

    return {
      encoder: exportInference(eg, { description: 'rshield image encoder: uint8 HWC frame → latent (resize and scaling inside)' }).onnx,
      heads: exportInference(hg, { description: 'rshield image model heads: twin Q_risk max and recovery mean on (latent, obs)' }).onnx,
      critic: exportInference(cg, { description: 'rshield image safety critic: frame, obs, act → max of twin sigmoid heads' }).onnx,
      recovery: exportInference(rg, { description: 'rshield image recovery policy (mean action): frame, obs → action' }).onnx,
    };
  }

  /** Writes the four graphs and model.json (with its image, encoder and heads parts) into `dir`; returns the card. */
  async writeModelDir(dir: string, onnx: ImageModelOnnx, parts: ImageCardParts): Promise<ModelCardInput> {
    const T = IMAGE_TENSORS;
    const { camera, ...rest } = parts;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, CRITIC_FILE), onnx.critic);
    await writeFile(join(dir, RECOVERY_FILE), onnx.recovery);
    await writeFile(join(dir, ENCODER_FILE), onnx.encoder);
    await writeFile(join(dir, HEADS_FILE), onnx.heads);
    const card: ModelCardInput = {
      format: 'rshield-model/1',
      ...rest,
      obsDim: this.opts.obsDim,
      actDim: this.opts.actDim,
      gammaRisk: this.opts.gammaRisk,
      critic: { file: CRITIC_FILE, inputs: { obs: T.obs, act: T.act }, output: T.qRisk },
      recovery: { file: RECOVERY_FILE, input: T.obs, output: T.action },
      image: {
        camera: { width: camera.width, height: camera.height, encoding: camera.encoding },
        input: { width: this.sizes.input.width, height: this.sizes.input.height },
        latentDim: this.sizes.latent,
        tensor: T.image,
      },
      encoder: { file: ENCODER_FILE, output: T.latent },
      heads: { file: HEADS_FILE, inputs: { latent: T.latent, obs: T.obs, act: T.act }, outputs: { qRisk: T.qRisk, action: T.action } },
    };
    await writeFile(join(dir, 'model.json'), `${JSON.stringify(card, null, 2)}\n`);
    return card;
  }

  /** Q_risk of many (frame, s, a) rows through the exported critic (held-out scoring); frames uint8 [N, H, W, 3]. */
  async scoreCritic(images: Uint8Array, obs: Float32Array, act: Float32Array, critic?: Uint8Array): Promise<Float32Array> {
    const { obsDim: S, actDim: A, camera: c } = this.opts;
    const n = obs.length / S;
    const session = await ort.InferenceSession.create(critic ?? this.exportOnnx().critic, { intraOpNumThreads: this.opts.threads ?? 2 });
    try {
      const out = await session.run({
        image: new ort.Tensor('uint8', images, [n, c.height, c.width, 3]),
        obs: new ort.Tensor('float32', obs, [n, S]),
        act: new ort.Tensor('float32', act, [n, A]),
      });
      return out.q_risk!.data as Float32Array;
    } finally {
      await session.release();
    }
  }

  async release(): Promise<void> {
    await this.criticStep.release();
    await this.recoveryStep.release();
  }
}
