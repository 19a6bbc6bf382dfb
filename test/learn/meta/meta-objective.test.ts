// The MAML objective of MESA's meta-learner: its gradient w.r.t. the meta-parameters and the
// learned inner learning rates is checked by finite differences, so the second-order terms
// (the gradient flowing through the inner step's own gradient) must be there and be right.
import t from 'tap';
import { GraphBuilder, ParamSet } from '../../../src/nn/index.js';
import { critic } from '../../../src/learn/networks.js';
import { metaObjective, type TdBatch } from '../../../src/learn/meta/meta-learner.js';
import type { Normalizer } from '../../../src/learn/normalizer.js';
import { gradCheck } from '../../nn/gradcheck.js';

const S = 2;
const A = 1;
const B = 4;
const sizes = { hidden: [3] };
const n: Normalizer = { obsMean: [0.1, -0.2], obsStd: [1.5, 0.8], actCenter: [0], actHalfRange: [2] };

function makeParams(): { params: ParamSet; target: ParamSet } {
  const params = ParamSet.create({ rng: 11, dtype: 'float64' });
  const scratch = new GraphBuilder('scratch', { dtype: 'float64' });
  critic(scratch, params, scratch.input('o', [1, S]), scratch.input('a', [1, A]), n, sizes);
  return { params, target: params.copy('target') };
}

const batchOf = (g: GraphBuilder, prefix: string): TdBatch => ({
  obs: g.input(`${prefix}obs`, [B, S]),
  act: g.input(`${prefix}act`, [B, A]),
  cost: g.input(`${prefix}cost`, [B, 1]),
  next_obs: g.input(`${prefix}next_obs`, [B, S]),
  next_act: g.input(`${prefix}next_act`, [B, A]),
  done: g.input(`${prefix}done`, [B, 1]),
});

const fixed: Record<string, number[]> = {};
const constant: string[] = [];
for (const k of [0, 1]) {
  for (const half of ['inner', 'outer']) {
    const p = `t${k}_${half}_`;
    fixed[`${p}cost`] = [0, 1, 0, 1];
    fixed[`${p}done`] = [0, 1, 0, 1];
    constant.push(`${p}cost`, `${p}done`, `${p}obs`, `${p}act`, `${p}next_obs`, `${p}next_act`);
  }
}

void t.test('d(outer loss after one inner step)/d(θ, ℓ) matches finite differences', async (t) => {
  const { params, target } = makeParams();
  const ps = params.trainable();
  const r = await gradCheck(
    (g) => {
      const theta = ps.map((p) => g.use(p));
      const ell = ps.map((_, i) => g.input(`ell_${i}`, [1]));
      ell.forEach((_, i) => (fixed[`ell_${i}`] = [Math.log(Math.expm1(0.3 + 0.1 * i))]));
      const tasks = [0, 1].map((k) => ({ inner: batchOf(g, `t${k}_inner_`), outer: batchOf(g, `t${k}_outer_`) }));
      return metaObjective(g, { params: ps, theta, innerLrs: ell.map((l) => g.softplus(l)), target, normalizer: n, sizes, gammaRisk: 0.8, tasks }).outer;
    },
    { samples: 6, values: fixed, constant: [...constant, ...target.list().map((p) => p.name)] },
  );
  t.ok(r.checked > 0, `${r.checked} partial derivatives checked`);
  t.ok(r.worst <= 1, `worst ${r.worst.toFixed(3)} at ${r.where}`);
});

void t.test('with a zero inner learning rate the objective is the plain TD loss of the meta critic', async (t) => {
  const { params, target } = makeParams();
  const ps = params.trainable();
  const g = new GraphBuilder('zero-lr', { dtype: 'float64' });
  const theta = ps.map((p) => g.use(p));
  const same = batchOf(g, 't0_inner_');
  const tasks = [{ inner: same, outer: same }];
  const zero = ps.map(() => g.const(0));
  const { outer, inner } = metaObjective(g, { params: ps, theta, innerLrs: zero, target, normalizer: n, sizes, gammaRisk: 0.8, tasks });
  const lr = ps.map(() => g.const(5));
  const adapted = metaObjective(g, { params: ps, theta, innerLrs: lr, target, normalizer: n, sizes, gammaRisk: 0.8, tasks }).outer;
  g.output('outer', outer);
  g.output('inner', inner);
  g.output('adapted', adapted);
  const ort = (await import('onnxruntime-node')).default;
  const { serialize } = await import('../../../src/nn/index.js');
  const s = await ort.InferenceSession.create(serialize(g));
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const inp of g.inputs.values()) {
    const dims = inp.tensor.shape as number[];
    const size = dims.reduce((a, b) => a * b, 1);
    const v = inp.param !== undefined ? Float64Array.from(inp.param.value) : Float64Array.from({ length: size }, (_, i) => (inp.tensor.name.endsWith('cost') ? i % 2 : Math.sin(i + inp.tensor.name.length)));
    feeds[inp.tensor.name] = new ort.Tensor('float64', v, dims);
  }
  const out = await s.run(feeds);
  const value = (k: string): number => (out[k]!.data as Float64Array)[0]!;
  t.equal(value('outer'), value('inner'), 'no step: the outer loss on the same batch is the inner loss');
  t.ok(value('adapted') < value('outer'), `a real step on the same batch lowers it (${value('adapted').toFixed(4)} < ${value('outer').toFixed(4)})`);
});
