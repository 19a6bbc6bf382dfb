// Gradients of gradients: the emitted gradient graph is differentiable again (MESA's MAML).
import t from 'tap';
import ort from 'onnxruntime-node';
import { GraphBuilder, ParamSet, linear, mlp, serialize } from '../../src/nn/index.js';
import { gradCheck } from './gradcheck.js';

void t.test('Hessian-vector product of Σx³ is 6·x·v', async (t) => {
  const g = new GraphBuilder('hvp', { dtype: 'float64' });
  const x = g.input('x', [4]);
  const v = g.input('v', [4]);
  const [dx] = g.gradients(g.reduceSum(g.pow(x, 3)), [x]);
  const [hv] = g.gradients(g.reduceSum(g.mul(dx!, v)), [x]);
  g.output('hv', hv!);
  const s = await ort.InferenceSession.create(serialize(g));
  const xs = [0.5, -1, 2, 0.1];
  const vs = [1, 2, -0.5, 3];
  const out = await s.run({ x: new ort.Tensor('float64', Float64Array.from(xs), [4]), v: new ort.Tensor('float64', Float64Array.from(vs), [4]) });
  t.same(Array.from(out.hv!.data as Float64Array).map((a) => Number(a.toFixed(12))), xs.map((a, i) => Number((6 * a * vs[i]!).toFixed(12))));
});

void t.test('second-order finite-difference check: gradient norm of an MLP loss', async (t) => {
  const p = ParamSet.create({ rng: 8, dtype: 'float64' });
  const r = await gradCheck(
    (g) => {
      const x = g.input('x', [5, 3]);
      const y = g.input('y', [5, 2]);
      const out = mlp(g, p, x, { widths: [6, 2], act: 'tanh', out: 'sigmoid' });
      const loss = g.mean(g.square(g.sub(out, y)));
      const grads = g.gradients(loss, p.trainable());
      return grads.map((d) => g.reduceSum(g.square(d))).reduce((a, b) => g.add(a, b));
    },
    { samples: 4 },
  );
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});

void t.test('MAML: outer loss after one inner SGD step, differentiated through the step', async (t) => {
  const p = ParamSet.create({ rng: 9, dtype: 'float64' });
  const r = await gradCheck(
    (g) => {
      const xs = g.input('x_support', [6, 2]);
      const ys = g.input('y_support', [6, 1]);
      const xq = g.input('x_query', [6, 2]);
      const yq = g.input('y_query', [6, 1]);
      const w = g.use(p.get('w', [2, 1], { kind: 'uniform', bound: 1 }));
      const b = g.use(p.get('b', [1], { kind: 'uniform', bound: 1 }));
      const f = (x: typeof w, w1: typeof w, b1: typeof w) => g.tanh(g.gemm(x, w1, b1));
      const inner = g.mean(g.square(g.sub(f(xs, w, b), ys)));
      const [dw, db] = g.gradients(inner, [w, b]);
      const w1 = g.sub(w, g.mul(dw!, 0.5));
      const b1 = g.sub(b, g.mul(db!, 0.5));
      return g.mean(g.square(g.sub(f(xq, w1, b1), yq)));
    },
    { samples: 4 },
  );
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});

void t.test('second derivatives through ReLU layers and Where are exact zeros where they should be', async (t) => {
  const p = ParamSet.create({ rng: 10, dtype: 'float64' });
  const r = await gradCheck((g) => {
    const x = g.input('x', [4, 3]);
    const h = linear(g, p, x, 2);
    const loss = g.reduceSum(g.square(g.relu(h)));
    const [dx] = g.gradients(loss, [x]);
    return g.reduceSum(g.square(dx!));
  });
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});
