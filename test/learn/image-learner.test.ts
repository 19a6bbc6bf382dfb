import t from 'tap';
import ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { dvrkCamera } from '../../src/envs/index.js';
import { ImageLearner, type ImageBatch } from '../../src/learn/image-learner.js';
import type { Normalizer } from '../../src/learn/normalizer.js';

const B = 8;
const S = 3;
const A = 3;
const camera = { width: dvrkCamera.width, height: dvrkCamera.height };
const normalizer: Normalizer = { obsMean: [0.08, 0.07, -0.13], obsStd: [0.02, 0.02, 0.01], actCenter: [0, 0, 0], actHalfRange: [0.005, 0.005, 0.005] };

function batch(rng: Rng): ImageBatch {
  const px = camera.width * camera.height * 3;
  const b = {
    obs: new Float32Array(B * S), act: new Float32Array(B * A), cost: new Float32Array(B), next_obs: new Float32Array(B * S),
    next_act: new Float32Array(B * A), done: new Float32Array(B), image: new Float32Array(B * px), next_image: new Float32Array(B * px),
  };
  const frame = new Uint8Array(px);
  for (let i = 0; i < B; i++) {
    const s = [rng.uniform(0.04, 0.12), rng.uniform(0.04, 0.1), -0.13];
    b.obs.set(s, i * S);
    b.next_obs.set(s, i * S);
    // Violation label: inside the post.
    b.cost[i] = b.done[i] = Math.hypot(s[0]! - 0.075, s[1]! - 0.07) < 0.008 ? 1 : 0;
    dvrkCamera.render(s, frame);
    b.image.set(frame, i * px);
    b.next_image.set(frame, i * px);
  }
  return b;
}

void t.test('image critic + MF recovery train on frames and export graphs that run in onnxruntime-node', async (t) => {
  const learner = await ImageLearner.create({ obsDim: S, actDim: A, camera, normalizer, gammaRisk: 0.7, batch: B, lr: 1e-3, tau: 0.005, seed: 1, threads: 1 });
  t.teardown(() => learner.release());
  const rng = new Rng(2);
  const first = await learner.update(batch(rng));
  t.ok(Number.isFinite(first.criticLoss) && Number.isFinite(first.recoveryLoss), 'losses are finite');
  for (let i = 0; i < 5; i++) await learner.update(batch(rng));

  const onnx = learner.exportOnnx();
  const open = (b: Uint8Array) => ort.InferenceSession.create(b);
  const [enc, heads, critic, recovery] = await Promise.all([open(onnx.encoder), open(onnx.heads), open(onnx.critic), open(onnx.recovery)]);
  t.teardown(async () => {
    for (const s of [enc, heads, critic, recovery]) await s.release();
  });
  t.same(enc.inputNames, ['image']);
  t.same(heads.inputNames.slice().sort(), ['act', 'latent', 'obs']);

  const s = Float32Array.of(0.06, 0.07, -0.13);
  const a = Float32Array.of(0.005, 0, 0);
  const frame = new Uint8Array(camera.width * camera.height * 3);
  dvrkCamera.render(s, frame);
  const image = new ort.Tensor('uint8', frame, [1, camera.height, camera.width, 3]);
  const obs = new ort.Tensor('float32', s, [1, S]);
  const act = new ort.Tensor('float32', a, [1, A]);
  const z = (await enc.run({ image })).latent!;
  t.same(z.dims, [1, 64], 'latent [1, 64]');
  const split = await heads.run({ latent: z, obs, act });
  const whole = await critic.run({ image, obs, act });
  const q = (whole.q_risk!.data as Float32Array)[0]!;
  t.ok(q >= 0 && q <= 1, `Q_risk ${q} is a probability`);
  t.ok(Math.abs((split.q_risk!.data as Float32Array)[0]! - q) < 1e-5, 'split graph (encoder, then heads) equals the whole critic');
  const rec = (await recovery.run({ image, obs })).action!.data as Float32Array;
  const recSplit = split.action!.data as Float32Array;
  for (let i = 0; i < A; i++) {
    t.ok(Math.abs(rec[i]! - recSplit[i]!) < 1e-5, `recovery[${i}] equal in both graphs`);
    t.ok(Math.abs(rec[i]!) <= 0.005 + 1e-7, `recovery[${i}] ${rec[i]} inside the bounds`);
  }

  // Another camera resolution (2× each way, nearest-neighbour upscaled) still runs: the graph resizes.
  const big = new Uint8Array(camera.width * 2 * camera.height * 2 * 3);
  for (let r = 0; r < camera.height * 2; r++) {
    for (let c = 0; c < camera.width * 2; c++) {
      const from = ((r >> 1) * camera.width + (c >> 1)) * 3;
      big.set(frame.subarray(from, from + 3), (r * camera.width * 2 + c) * 3);
    }
  }
  const zBig = (await enc.run({ image: new ort.Tensor('uint8', big, [1, camera.height * 2, camera.width * 2, 3]) })).latent!;
  t.same(zBig.dims, [1, 64], 'a 128×96 frame encodes to the same latent size');
  const qBig = ((await heads.run({ latent: zBig, obs, act })).q_risk!.data as Float32Array)[0]!;
  t.ok(Number.isFinite(qBig) && qBig >= 0 && qBig <= 1, `Q_risk of the larger frame ${qBig} is a probability`);
});
