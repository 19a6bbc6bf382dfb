/**
 * Offline pretraining of an image critic and its recovery on D_offline (thesis Algorithm 1,
 * lines 1–3) for a robot with a camera. Each state's frame is the one recorded with the data
 * (the dataset's sensor_msgs/Image channel), or, for data without frames, the simulated
 * camera's render of the recorded state (a pure function of the state: the frame it showed).
 */
import { createHash } from 'node:crypto';
import { Rng } from '../core/rng.js';
import { FRAMES_TOPIC, type Dataset, type RecordedFrames } from '../data/index.js';
import { RShieldError } from '../core/errors.js';
import type { Camera } from '../core/camera.js';
import { auroc } from './auroc.js';
import { BatchSampler } from './batch-sampler.js';
import { normalizerFromData } from './normalizer.js';
import { dataEntries, offlineMetrics, type OfflineTrainOptions, type OfflineTrainResult } from './offline.js';
import { ImageLearner, type ImageBatch } from './image-learner.js';
import { defaultImageSizes, type ImageNetworkSizes } from './image-networks.js';
import { heldOutRows, splitByEpisode } from './validation.js';

export interface ImageTrainOptions extends Omit<OfflineTrainOptions, 'sizes' | 'modelBased'> {
  /** The robot's camera: its size and encoding, and the renderer of a state's frame. */
  readonly camera: Camera;
  /** Frames recorded with the data (readFrames): used instead of rendering the states. */
  readonly frames?: RecordedFrames;
  readonly imageSizes?: ImageNetworkSizes;
}

/**
 * A batch's frames (float 0..255) by data row: the recorded frames when the dataset has them,
 * else the camera's render of each row's state.
 */
class FrameFiller {
  readonly #scratch: Uint8Array;
  readonly #px: number;

  constructor(
    private readonly camera: Camera,
    private readonly data: Dataset,
    private readonly recorded: RecordedFrames | undefined,
  ) {
    this.#px = camera.width * camera.height * 3;
    this.#scratch = new Uint8Array(this.#px);
    if (recorded !== undefined) {
      if (recorded.width !== camera.width || recorded.height !== camera.height || recorded.encoding !== 'rgb8') {
        throw new RShieldError('E_DATA', `recorded frames are ${recorded.width}×${recorded.height} ${recorded.encoding}, the ${data.meta.robot} camera is ${camera.width}×${camera.height} rgb8`, { robot: data.meta.robot });
      }
      if (recorded.obs.length !== data.size) throw new RShieldError('E_DATA', `${recorded.obs.length} recorded frames for ${data.size} transitions`, { robot: data.meta.robot });
    }
  }

  /** Frames of `rows` (their states, or with `next` their next states) into `out` at i·H·W·3. */
  fill(rows: ArrayLike<number>, next: boolean, out: Uint8Array | Float32Array): void {
    const S = this.data.obsDim;
    const states = next ? this.data.nextObs : this.data.obs;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const rec = this.recorded === undefined ? undefined : (next ? this.recorded.next : this.recorded.obs)[row];
      if (rec !== undefined) out.set(rec, i * this.#px);
      else {
        this.camera.render(states.subarray(row * S, row * S + S), this.#scratch);
        out.set(this.#scratch, i * this.#px);
      }
    }
  }
}

export async function trainImageOffline(data: Dataset, opts: ImageTrainOptions): Promise<OfflineTrainResult> {
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const meta = data.meta;
  const cam = opts.camera;
  const sizes = opts.imageSizes ?? defaultImageSizes;
  const split = splitByEpisode(data.episode, opts.validationShare ?? 0.1, rng.fork());
  const normalizer = normalizerFromData(data, meta.actLow, meta.actHigh);
  const batchSize = Math.min(opts.batch, Math.max(1, split.train.length));
  const learner = await ImageLearner.create({
    obsDim: data.obsDim,
    actDim: data.actDim,
    camera: { width: cam.width, height: cam.height },
    normalizer,
    gammaRisk: opts.gammaRisk,
    batch: batchSize,
    lr: opts.lr,
    tau: opts.tau,
    seed: rng.nextUint32(),
    sizes,
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
  });
  try {
    const sampler = new BatchSampler(batchSize, opts.violationShare, data.obsDim, data.actDim);
    const px = cam.width * cam.height * 3;
    const frames = new FrameFiller(cam, data, opts.frames);
    const image = new Float32Array(batchSize * px);
    const nextImage = new Float32Array(batchSize * px);
    const batchRng = rng.fork();
    let last = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };
    for (let step = 1; step <= opts.steps; step++) {
      const b = sampler.sample(data, batchRng, split.train);
      frames.fill(sampler.rows, false, image);
      frames.fill(sampler.rows, true, nextImage);
      const ib: ImageBatch = { ...b, image, next_image: nextImage };
      last = await learner.update(ib);
      if (opts.onProgress !== undefined && (step % 50 === 0 || step === opts.steps)) opts.onProgress(step, last.criticLoss, last.recoveryLoss);
    }

    // Held-out AUROC of Q_risk(o, s, a) at predicting a violation within the next k steps.
    const v = split.validation;
    const { obs: vObs, act: vAct, labels, positives } = heldOutRows(data, v, opts.aurocHorizon);
    const onnx = learner.exportOnnx();
    const vFrames = new Uint8Array(v.length * px);
    frames.fill(v, false, vFrames);
    const scores = v.length > 0 ? await learner.scoreCritic(vFrames, vObs, vAct, onnx.critic) : new Float32Array(0);
    const score = auroc(scores, labels);

    const version = `${opts.robot}-${createHash('sha256').update(onnx.encoder).update(onnx.heads).digest('hex').slice(0, 12)}`;
    const seconds = (performance.now() - t0) / 1000;
    const card = await learner.writeModelDir(opts.outDir, onnx, {
      robot: opts.robot,
      version,
      createdAt: new Date().toISOString(),
      actLow: Array.from(meta.actLow),
      actHigh: Array.from(meta.actHigh),
      epsRisk: opts.epsRisk,
      failsafe: new Array<number>(data.actDim).fill(0),
      hysteresis: 0,
      camera: cam,
      data: await dataEntries(data.files),
      metrics: offlineMetrics(score, opts.aurocHorizon, v.length, positives, split.train.length, last),
      training: {
        engine: 'rshield/nn on onnxruntime-node',
        steps: opts.steps,
        batch: batchSize,
        image: { channels: [...sizes.channels], latent: sizes.latent, hidden: [...sizes.hidden], frames: opts.frames === undefined ? `rendered from each state by the ${opts.robot} camera (${cam.description})` : `recorded (${FRAMES_TOPIC})` },
        lr: opts.lr,
        tau: opts.tau,
        violationShare: opts.violationShare,
        seed: opts.seed,
        nextAction: opts.nextAction ?? 'logged',
        seconds: Number(seconds.toFixed(1)),
        normalizer,
      },
    });
    return { card, seconds, auroc: score };
  } finally {
    await learner.release();
  }
}
