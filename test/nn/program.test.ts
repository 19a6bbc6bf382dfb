// Training programs: optimizer updates against reference arithmetic, state handling, feeds.
import t from 'tap';
import { GraphBuilder, ParamSet, TrainingProgram, adam, polyak, sgd, linear, type Tensor } from '../../src/nn/index.js';

/** loss = Σ c·(w − target)² on a float64 param vector. */
function quadratic(p: ParamSet, target: number[], c: number[]): { g: GraphBuilder; loss: Tensor } {
  const g = new GraphBuilder('quad', { dtype: 'float64' });
  const w = g.use(p.get('w', [target.length], { kind: 'const', value: 0 }));
  const loss = g.reduceSum(g.mul(g.square(g.sub(w, g.const(target, [target.length]))), g.const(c, [c.length])));
  g.output('loss', loss);
  return { g, loss };
}

void t.test('Adam follows the bias-corrected update of Kingma & Ba (Alg. 1)', async (t) => {
  const target = [1, -2, 0.5];
  const c = [1, 10, 0.1];
  const p = ParamSet.create({ dtype: 'float64' });
  const { g, loss } = quadratic(p, target, c);
  const [lr, b1, b2, eps] = [0.1, 0.9, 0.999, 1e-8];
  adam(g, p, g.gradients(loss, p.trainable()), { lr, beta1: b1, beta2: b2, eps });
  const prog = await TrainingProgram.compile(g);
  const w = [0, 0, 0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  for (let step = 1; step <= 6; step++) {
    await prog.step();
    for (let i = 0; i < 3; i++) {
      const grad = 2 * c[i]! * (w[i]! - target[i]!);
      m[i] = b1 * m[i]! + (1 - b1) * grad;
      v[i] = b2 * v[i]! + (1 - b2) * grad * grad;
      const mh = m[i]! / (1 - b1 ** step);
      const vh = v[i]! / (1 - b2 ** step);
      w[i] = w[i]! - (lr * mh) / (Math.sqrt(vh) + eps);
    }
  }
  const got = Array.from(p.get('w', [3], { kind: 'const', value: 0 }).value);
  got.forEach((x, i) => t.ok(Math.abs(x - w[i]!) < 1e-12, `w[${i}] = ${x}, reference ${w[i]}`));
  t.equal(prog.state()['adam.t']![0], 6, 'step counter is graph state');
});

void t.test('SGD with global-norm clipping moves exactly maxNorm at lr 1', async (t) => {
  const p = ParamSet.create({ dtype: 'float64' });
  const { g, loss } = quadratic(p, [3, 4], [1, 1]);
  const { gradNorm } = sgd(g, p, g.gradients(loss, p.trainable()), { lr: 1, clipNorm: 0.5 });
  g.output('grad_norm', gradNorm!);
  const prog = await TrainingProgram.compile(g);
  const out = await prog.step();
  t.ok(Math.abs(out.grad_norm! - 10) < 1e-9, 'reports the unclipped norm ‖2(w − target)‖ = 10');
  const w = p.list()[0]!.value;
  t.ok(Math.abs(Math.hypot(w[0]!, w[1]!) - 0.5) < 1e-6, 'step length is the clip norm');
  t.ok(Math.abs(w[0]! / w[1]! - 0.75) < 1e-9, 'direction is kept');
});

void t.test('Polyak target follows the updated source', async (t) => {
  const p = ParamSet.create({ dtype: 'float64' });
  const { g, loss } = quadratic(p, [1], [1]);
  const target = p.copy('target');
  t.same(target.list().map((x) => x.name), ['target/w']);
  sgd(g, p, g.gradients(loss, p.trainable()), { lr: 0.25 });
  polyak(g, target, p, 0.1);
  const prog = await TrainingProgram.compile(g);
  await prog.step();
  // w: 0 → 0 − 0.25·2(0 − 1) = 0.5; target: 0.9·0 + 0.1·0.5 = 0.05
  t.ok(Math.abs(p.list()[0]!.value[0]! - 0.5) < 1e-12);
  t.ok(Math.abs(target.list()[0]!.value[0]! - 0.05) < 1e-12);
  t.equal(target.trainable().length, 0, 'the target copy is not trainable');
});

void t.test('a step reuses two buffers per updated value and restores from a checkpoint', async (t) => {
  const p = ParamSet.create({ rng: 3 });
  const g = new GraphBuilder('fit');
  const x = g.input('x', [8, 2]);
  const y = g.input('y', [8, 1]);
  const loss = g.mean(g.square(g.sub(linear(g, p, x, 1), y)));
  g.output('loss', loss);
  adam(g, p, g.gradients(loss, p.trainable()), { lr: 0.05 });
  const prog = await TrainingProgram.compile(g);
  const feeds = { x: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), y: Float32Array.from({ length: 8 }, (_, i) => Math.cos(i)) };
  const w = p.list()[0]!;
  const buffers = new Set<Float32Array | Float64Array>();
  const first = (await prog.step(feeds)).loss!;
  buffers.add(w.value);
  for (let i = 0; i < 2; i++) {
    await prog.step(feeds);
    buffers.add(w.value);
  }
  t.equal(buffers.size, 2, 'parameter values alternate between two preallocated buffers');
  const params = p.snapshot();
  const state = prog.state();
  const after: number[] = [];
  for (let i = 0; i < 3; i++) after.push((await prog.step(feeds)).loss!);
  p.load(params);
  prog.load(state);
  const again: number[] = [];
  for (let i = 0; i < 3; i++) again.push((await prog.step(feeds)).loss!);
  t.same(again, after, 'same losses after restoring params and optimizer state');
  t.ok(after[2]! < first, `loss decreases: ${first} → ${after[2]}`);
});

void t.test('bad feeds are E_BAD_INPUT errors with the numbers', async (t) => {
  const p = ParamSet.create();
  const g = new GraphBuilder('f');
  g.output('y', linear(g, p, g.input('obs', [4, 3]), 2));
  const prog = await TrainingProgram.compile(g);
  await t.rejects(prog.step({}), { code: 'E_BAD_INPUT', message: 'input obs is missing' });
  await t.rejects(prog.step({ obs: new Float32Array(11) }), { code: 'E_BAD_INPUT', message: 'input obs has 11 values, graph expects 12 ([4,3])' });
  const out = await prog.step({ obs: new Float32Array(12) });
  t.equal(out.y, 0, 'zero input, zero bias → zero output');
  t.equal(prog.output('y').length, 8);
});

void t.test('noise inputs are reproducible from the seed', async (t) => {
  const run = async (seed: number): Promise<number[]> => {
    const g = new GraphBuilder('n');
    g.output('z', g.noise('eps', [64]));
    const prog = await TrainingProgram.compile(g, { rng: seed });
    await prog.step();
    return Array.from(prog.output('z'));
  };
  const [a, b, c] = [await run(1), await run(1), await run(2)];
  t.same(a, b);
  t.notSame(a, c);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  t.ok(Math.abs(mean) < 0.5 && a.some((v) => v < 0) && a.some((v) => v > 0), 'standard normal draws');
});

void t.test('shape errors name the op and the shapes', (t) => {
  const g = new GraphBuilder('s');
  const a = g.input('a', [2, 3]);
  t.throws(() => g.matmul(a, g.input('b', [4, 5])), { code: 'E_GRAPH', message: 'MatMul: inner dimensions differ: [2,3] × [4,5]' });
  t.throws(() => g.add(a, g.input('c', [4])), { code: 'E_GRAPH', message: 'Add: shapes [2,3] and [4] do not broadcast' });
  t.throws(() => g.concat([a, g.input('d', [3, 3])], 1), { code: 'E_GRAPH', message: /Concat: shapes \[2,3\] \[3,3\] differ outside axis 1/ });
  t.throws(() => g.reshape(a, [4, 2]), { code: 'E_GRAPH', message: 'Reshape: cannot reshape [2,3] (6 values) to [4,2]' });
  t.throws(() => g.conv(g.input('img', [1, 3, 8, 8]), g.input('w', [4, 2, 3, 3])), { code: 'E_GRAPH', message: /Conv: x has 3 channels, weight \[4,2,3,3\] expects 2/ });
  t.throws(() => g.gradients(a, [a]), { code: 'E_GRAPH', message: /is not a scalar/ });
  t.end();
});
