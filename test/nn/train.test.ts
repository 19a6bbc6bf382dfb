// End to end: an MLP learns a known function; an exported model in a fresh InferenceSession
// reproduces the training graph's forward pass.
import t from 'tap';
import ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { GraphBuilder, ParamSet, TrainingProgram, adam, exportInference, inferenceGraph, mlp, twinCritic } from '../../src/nn/index.js';

void t.test('an MLP fits y = sin(2·x₁) + x₂²', async (t) => {
  const B = 128;
  const p = ParamSet.create({ rng: 11 });
  const g = new GraphBuilder('fit');
  const x = g.input('x', [B, 2]);
  const y = g.input('y', [B, 1]);
  const loss = g.mean(g.square(g.sub(mlp(g, p, x, { widths: [32, 32, 1], act: 'tanh' }), y)));
  g.output('loss', loss);
  adam(g, p, g.gradients(loss, p.trainable()), { lr: 0.01 });
  const prog = await TrainingProgram.compile(g);
  const rng = new Rng(12);
  const xs = new Float32Array(B * 2);
  const ys = new Float32Array(B);
  const batch = (): void => {
    for (let i = 0; i < B; i++) {
      const [a, b] = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
      xs[2 * i] = a;
      xs[2 * i + 1] = b;
      ys[i] = Math.sin(2 * a) + b * b;
    }
  };
  batch();
  const first = (await prog.step({ x: xs, y: ys })).loss!;
  let last = first;
  for (let i = 0; i < 600; i++) {
    batch();
    last = (await prog.step({ x: xs, y: ys })).loss!;
  }
  t.ok(first > 0.2, `initial loss ${first.toFixed(3)}`);
  t.ok(last < 0.01, `loss after 600 steps ${last.toFixed(4)} < 0.01 (variance of y ≈ 0.5)`);
});

void t.test('exported critic matches the training graph and takes any batch size', async (t) => {
  const B = 16;
  const p = ParamSet.create({ rng: 13 });
  const g = new GraphBuilder('critic_step');
  const obs = g.input('obs', [B, 4]);
  const act = g.input('act', [B, 3]);
  const q = twinCritic(g, p, obs, act, { hidden: [32, 32] });
  const loss = g.mean(g.square(q.q1));
  g.output('q', q.max);
  adam(g, p, g.gradients(loss, p.trainable()), { lr: 0.01 });
  const prog = await TrainingProgram.compile(g);
  const rng = new Rng(14);
  const feeds = { obs: Float32Array.from({ length: B * 4 }, () => rng.uniform(-1, 1)), act: Float32Array.from({ length: B * 3 }, () => rng.uniform(-1, 1)) };
  for (let i = 0; i < 3; i++) await prog.step(feeds); // trained params differ from their initial values

  // Forward pass of the training graph with the current params (outputs are computed before the update).
  const fwd = new GraphBuilder('critic_fwd');
  fwd.output('q', twinCritic(fwd, p, fwd.input('obs', [B, 4]), fwd.input('act', [B, 3]), { hidden: [32, 32] }).max);
  const fprog = await TrainingProgram.compile(fwd);
  await fprog.step(feeds);
  const expected = Array.from(fprog.output('q'));

  const ig = inferenceGraph('critic');
  ig.output('q_risk', twinCritic(ig, p, ig.input('obs', ['N', 4]), ig.input('act', ['N', 3]), { hidden: [32, 32] }).max);
  const { onnx, card } = exportInference(ig, { description: 'test critic' });
  t.same(card.inputs, [
    { name: 'obs', shape: ['N', 4], dtype: 'float32' },
    { name: 'act', shape: ['N', 3], dtype: 'float32' },
  ]);
  t.same(card.outputs, [{ name: 'q_risk', shape: ['N', 1], dtype: 'float32' }]);
  t.equal(card.parameters, p.count());

  const session = await ort.InferenceSession.create(onnx);
  const run = async (n: number): Promise<number[]> => {
    const out = await session.run({
      obs: new ort.Tensor('float32', feeds.obs.slice(0, n * 4), [n, 4]),
      act: new ort.Tensor('float32', feeds.act.slice(0, n * 3), [n, 3]),
    });
    return Array.from(out.q_risk!.data as Float32Array);
  };
  const all = await run(B);
  all.forEach((v, i) => t.ok(Math.abs(v - expected[i]!) < 1e-6, `q[${i}] ${v} vs ${expected[i]}`));
  t.same(await run(1), all.slice(0, 1), 'batch of one');
  t.ok(all.every((v) => v > 0 && v < 1), 'sigmoid output is a probability');
});

void t.test('export refuses training graphs', (t) => {
  const g = new GraphBuilder('train');
  g.output('y', g.input('x', [1]));
  t.throws(() => exportInference(g), { code: 'E_GRAPH', message: /keeps parameters as inputs/ });
  t.end();
});
