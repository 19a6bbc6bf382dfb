// Layer gradients against finite differences (parameters and inputs), and what the layers compute.
import t from 'tap';
import ort from 'onnxruntime-node';
import { GraphBuilder, ParamSet, cnn, gaussianHead, linear, mlp, serialize, twinCritic } from '../../src/nn/index.js';
import { gradCheck } from './gradcheck.js';

const ps = (seed: number, dtype: 'float32' | 'float64' = 'float64'): ParamSet => ParamSet.create({ rng: seed, dtype });

void t.test('Linear', async (t) => {
  const p = ps(1);
  const r = await gradCheck((g) => linear(g, p, g.input('x', [4, 3]), 5));
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
  t.same(
    p.list().map((x) => x.name),
    ['w', 'b'],
  );
});

void t.test('MLP with tanh and sigmoid output', async (t) => {
  const p = ps(2);
  const r = await gradCheck((g) => mlp(g, p, g.input('x', [4, 3]), { widths: [8, 8, 2], act: 'tanh', out: 'sigmoid' }), { samples: 4 });
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});

void t.test('twin-head critic', async (t) => {
  const p = ps(3);
  const r = await gradCheck((g) => twinCritic(g, p, g.input('obs', [5, 4]), g.input('act', [5, 3]), { hidden: [8, 8] }).max, { samples: 3 });
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
  t.equal(p.list().filter((x) => x.name.startsWith('q1/')).length, 6, 'q1 has 3 layers');
  t.equal(p.list().filter((x) => x.name.startsWith('q2/')).length, 6, 'q2 has 3 layers');
});

for (const variant of ['state', 'param'] as const) {
  void t.test(`Gaussian tanh head, ${variant} log-std: gradients of action and log-prob`, async (t) => {
    const p = ps(4);
    const r = await gradCheck(
      (g) => {
        const h = gaussianHead(g, p, g.input('obs', [3, 4]), { actDim: 2, hidden: [8], logStd: variant, scale: [2, 0.5], bias: [0, 1], noise: g.noise('eps', [3, 2]) });
        return g.concat([h.action!, h.logProb!], 1);
      },
      { samples: 3 },
    );
    t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
  });
}

void t.test('Gaussian tanh head: log-prob is the change-of-variables density', async (t) => {
  const p = ps(5);
  const g = new GraphBuilder('pi', { dtype: 'float64' });
  const obs = g.input('obs', [2, 3]);
  const head = gaussianHead(g, p, obs, { actDim: 1, hidden: [4], scale: [2], bias: [0.5], noise: g.noise('eps', [2, 1]) });
  g.output('a', head.action!);
  g.output('lp', head.logProb!);
  g.output('mu', head.mu);
  g.output('ls', head.logStd);
  const s = await ort.InferenceSession.create(serialize(g));
  const eps = [0.3, -1.7];
  const feeds: Record<string, ort.Tensor> = {
    obs: new ort.Tensor('float64', Float64Array.from([0.1, -0.2, 0.3, 1, 0.5, -1]), [2, 3]),
    eps: new ort.Tensor('float64', Float64Array.from(eps), [2, 1]),
  };
  for (const [name, inp] of g.inputs) if (inp.param !== undefined) feeds[name] = new ort.Tensor('float64', inp.param.value, inp.param.shape);
  const out = await s.run(feeds);
  for (let i = 0; i < 2; i++) {
    const mu = Number(out.mu!.data[i]);
    const sigma = Math.exp(Number(out.ls!.data[i]));
    const u = mu + sigma * eps[i]!;
    const a = Math.tanh(u) * 2 + 0.5;
    const logN = -0.5 * ((u - mu) / sigma) ** 2 - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
    const expected = logN - Math.log(2 * (1 - Math.tanh(u) ** 2));
    t.ok(Math.abs(Number(out.a!.data[i]) - a) < 1e-12, `action ${i}`);
    t.ok(Math.abs(Number(out.lp!.data[i]) - expected) < 1e-9, `log-prob ${i}: ${Number(out.lp!.data[i])} vs ${expected}`);
  }
});

void t.test('small CNN (float32: ONNX Runtime CPU convolutions are float32)', async (t) => {
  const p = ps(6, 'float32');
  const r = await gradCheck((g) => cnn(g, p, g.input('img', [2, 1, 8, 8]), { channels: [3, 4], out: 2, act: 'tanh', outAct: 'tanh' }), { dtype: 'float32', samples: 4 });
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
  const conv1 = p.list().find((x) => x.name === 'conv1/w');
  t.same(conv1?.shape, [4, 3, 3, 3], 'second conv maps 3 → 4 channels with 3×3 kernels');
});

void t.test('a param reused with another shape is an E_GRAPH error naming both shapes', (t) => {
  const p = ps(7);
  const g = new GraphBuilder('x', { dtype: 'float64' });
  linear(g, p, g.input('a', [2, 3]), 4);
  t.throws(() => linear(g, p, g.input('x2', [2, 5]), 4), { code: 'E_GRAPH', message: /param w has shape \[3,4\], layer asks for \[5,4\]/ });
  t.end();
});
