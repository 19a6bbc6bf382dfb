import t from 'tap';
import ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { TransitionColumns } from '../../src/data/index.js';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DYNAMICS_ACT, DYNAMICS_LOGVAR, DYNAMICS_MEAN, DYNAMICS_OBS, DynamicsEnsemble } from '../../src/learn/dynamics-ensemble.js';
import { readOnnxWeights } from '../../src/learn/onnx-weights.js';

// s′ = (x + a0, y + 0.5·a1) + 0.05·N(0, I): linear, with known noise (variance 0.0025).
function data(n: number, seed: number): TransitionColumns {
  const rng = new Rng(seed);
  const c = TransitionColumns.growable(2, 2);
  for (let i = 0; i < n; i++) {
    const obs = Float32Array.from([rng.uniform(-5, 5), rng.uniform(-5, 5)]);
    const act = Float32Array.from([rng.uniform(-1, 1), rng.uniform(-1, 1)]);
    const next = Float32Array.from([obs[0]! + act[0]! + 0.05 * rng.normal(), obs[1]! + 0.5 * act[1]! + 0.05 * rng.normal()]);
    c.push({ obs, act, cost: 0, nextObs: next, done: false, episode: i, step: 0 });
  }
  return c;
}

void t.test('the ensemble learns a simple dynamics: NLL falls, held-out error near the noise floor', async (t) => {
  const train = data(1500, 1);
  const held = data(300, 2);
  const ens = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 3, sizes: { ensemble: 3, hidden: [32, 32] } });
  t.teardown(() => ens.release());
  const fit = await ens.fit(train, Uint32Array.from({ length: train.size }, (_, i) => i), 6);
  const nll = fit.epochs.map((e) => e.nll);
  t.ok(nll.at(-1)! < nll[0]! - 0.5, `training NLL fell: ${nll.map((x) => x.toFixed(2)).join(' → ')}`);
  const ev = await ens.evaluate(held, Uint32Array.from({ length: held.size }, (_, i) => i));
  t.ok(ev.mse < 0.01, `held-out MSE ${ev.mse.toFixed(4)} < 0.01 (noise variance 0.0025)`);
  t.ok(ev.stillMse > 20 * ev.mse, `standing still would be ${(ev.stillMse / ev.mse).toFixed(0)}× worse`);
  t.ok(ev.nll < 0, `held-out NLL ${ev.nll.toFixed(2)} nats per value`);
});

void t.test('dynamics.onnx: members read their own rows; outputs are s + Δs and a bounded log-variance', async (t) => {
  const train = data(1500, 4);
  const ens = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 5, sizes: { ensemble: 2, hidden: [32, 32] } });
  t.teardown(() => ens.release());
  await ens.fit(train, Uint32Array.from({ length: train.size }, (_, i) => i), 10);
  const session = await ort.InferenceSession.create(ens.exportOnnx());
  t.teardown(() => session.release());
  // Member 0 gets (1, 1) + (1, 0); member 1 gets (−2, 3) + (0, −1).
  const out = await session.run({
    [DYNAMICS_OBS]: new ort.Tensor('float32', Float32Array.from([1, 1, -2, 3]), [2, 1, 2]),
    [DYNAMICS_ACT]: new ort.Tensor('float32', Float32Array.from([1, 0, 0, -1]), [2, 1, 2]),
  });
  const m = out[DYNAMICS_MEAN]!.data as Float32Array;
  const lv = out[DYNAMICS_LOGVAR]!.data as Float32Array;
  t.same(out[DYNAMICS_MEAN]!.dims, [2, 1, 2]);
  const near = (a: number, b: number): boolean => Math.abs(a - b) < 0.25;
  t.ok(near(m[0]!, 2) && near(m[1]!, 1), `member 0 predicts (${m[0]}, ${m[1]}) ≈ (2, 1)`);
  t.ok(near(m[2]!, -2) && near(m[3]!, 2.5), `member 1 predicts (${m[2]}, ${m[3]}) ≈ (−2, 2.5)`);
  for (const v of lv) t.ok(Number.isFinite(v) && v < 2, `log-variance ${v} finite and soft-clamped`);
});

void t.test('too little data for one batch is refused with the numbers', async (t) => {
  const ens = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 1, sizes: { ensemble: 2, hidden: [8] } });
  t.teardown(() => ens.release());
  await t.rejects(ens.fit(data(10, 1), Uint32Array.from({ length: 10 }, (_, i) => i), 1), { code: 'E_DATA', message: /10 transitions are fewer than one batch of 32/ });
});

void t.test('loadWeights continues an exported ensemble: the same predictions, then it trains on', async (t) => {
  const train = data(600, 6);
  const held = data(200, 7);
  const all = (c: TransitionColumns): Uint32Array => Uint32Array.from({ length: c.size }, (_, i) => i);
  const sizes = { ensemble: 2, hidden: [16, 16] };
  const a = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 8, sizes });
  t.teardown(() => a.release());
  const fit = await a.fit(train, all(train), 3);
  const dir = await mkdtemp(join(tmpdir(), 'rshield-dyn-weights-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'dynamics.onnx');
  await writeFile(file, a.exportOnnx());
  const b = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 99, sizes });
  t.teardown(() => b.release());
  b.loadWeights(fit.normalizer, await readOnnxWeights(file));
  const ea = await a.evaluate(held, all(held));
  const eb = await b.evaluate(held, all(held));
  t.equal(eb.mse, ea.mse, `the loaded ensemble predicts as the exported one (MSE ${ea.mse.toFixed(5)})`);
  t.equal(eb.nll, ea.nll);
  t.equal((await b.evaluate(held, all(held), a.exportOnnx())).mse, ea.mse, 'evaluate(…, onnx) scores the given export');
  await b.fit(train, all(train), 1);
  t.same(b.normalizer, fit.normalizer, 'training on keeps the loaded normaliser');
  t.not((await b.evaluate(held, all(held))).mse, ea.mse, 'and changes the weights');

  const wide = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 1, sizes: { ensemble: 2, hidden: [32, 16] } });
  t.teardown(() => wide.release());
  t.throws(() => wide.loadWeights(fit.normalizer, new Map()), { code: 'E_MODEL', message: /dynamics weights lack parameter l0\/w \(ensemble 2, hidden 32×16\)/ });
  const weights = await readOnnxWeights(file);
  t.throws(() => wide.loadWeights(fit.normalizer, weights), { code: 'E_MODEL', message: /dynamics parameter l0\/w has 128 values, the ensemble \(2 × hidden 32×16\) expects 256/ });
  t.throws(() => b.loadWeights(fit.normalizer, new Map()), { code: 'E_USAGE', message: /after the ensemble started training/ });
  const short = { ...fit.normalizer, deltaStd: [1] };
  const c = new DynamicsEnsemble({ obsDim: 2, actDim: 2, seed: 1, sizes });
  t.teardown(() => c.release());
  t.throws(() => c.loadWeights(short, new Map()), { code: 'E_MODEL', message: /normalizer\.deltaStd must hold 2 finite numbers \(obsDim 2, actDim 2\), got 1/ });
});
