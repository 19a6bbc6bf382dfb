import t from 'tap';
import { createController, createEnv } from '../../src/envs/index.js';

void t.test('controller noise explores within the bounds, reproducibly', async (t) => {
  const spec = createEnv('nav1').spec;
  const obs = Float32Array.from([-40, 0]);
  const plain = createController('nav1', { seed: 1 }).act(obs);
  t.same(Array.from(createController('nav1', { seed: 1, noise: 0 }).act(obs)), Array.from(plain), 'noise 0 is the plain controller');
  const a = createController('nav1', { seed: 1, noise: 0.5 });
  const b = createController('nav1', { seed: 1, noise: 0.5 });
  const xs = Array.from({ length: 200 }, () => Array.from(a.act(obs)));
  t.same(Array.from({ length: 200 }, () => Array.from(b.act(obs))), xs, 'same seed, same actions');
  t.ok(xs.every((x) => x.every((v, i) => v >= spec.actLow[i]! && v <= spec.actHigh[i]!)), 'clipped to the action bounds');
  const ys = xs.map((x) => x[1]!);
  const mean = ys.reduce((s, v) => s + v, 0) / ys.length;
  const std = Math.sqrt(ys.reduce((s, v) => s + (v - mean) ** 2, 0) / ys.length);
  t.ok(std > 0.35 && std < 0.6, `σ of the y action ${std.toFixed(3)} ≈ 0.5 of the half-range 1`);
  a.reset(9);
  b.reset(9);
  t.same(Array.from(a.act(obs)), Array.from(b.act(obs)), 'reset(seed) restarts the noise stream');
  t.throws(() => createController('nav1', { noise: -1 }), /controller noise must be a number ≥ 0, got -1/);
});
