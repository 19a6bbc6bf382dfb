// MESA's inner step as the adaptation: plain SGD on the critic at a learning rate per tensor
// (SafetyLearnerOptions.criticSgdLrs), instead of Adam.
import t from 'tap';
import { Rng } from '../../../src/core/rng.js';
import type { Batch } from '../../../src/learn/batch-sampler.js';
import { SafetyLearner } from '../../../src/learn/safety-learner.js';

const S = 2;
const A = 1;
const B = 16;
const n = { obsMean: [0, 0], obsStd: [1, 1], actCenter: [0], actHalfRange: [1] };

function batch(): Batch {
  const rng = new Rng(5);
  const b = { obs: new Float32Array(B * S), act: new Float32Array(B * A), cost: new Float32Array(B), next_obs: new Float32Array(B * S), next_act: new Float32Array(B * A), done: new Float32Array(B) };
  for (let i = 0; i < B; i++) {
    const x = rng.uniform(-1, 1);
    const a = rng.uniform(-1, 1);
    b.obs.set([x, 0], i * S);
    b.act[i] = a;
    b.next_obs.set([x + a, 0], i * S);
    b.next_act[i] = rng.uniform(-1, 1);
    b.cost[i] = b.done[i] = x + a > 1 ? 1 : 0;
  }
  return b;
}

const learner = (criticSgdLrs?: Record<string, number>): Promise<SafetyLearner> =>
  SafetyLearner.create({ obsDim: S, actDim: A, actLow: [-1], actHigh: [1], normalizer: n, gammaRisk: 0.5, batch: B, lr: 1e-3, tau: 0.005, seed: 7, threads: 1, sizes: { hidden: [8, 8] }, ...(criticSgdLrs === undefined ? {} : { criticSgdLrs }) });

/** The change of every critic tensor after one update. */
async function deltas(l: SafetyLearner): Promise<Map<string, Float64Array>> {
  const before = new Map(l.networks.critic.trainable().map((p) => [p.name, Float64Array.from(p.value)] as const));
  await l.update(batch());
  return new Map(l.networks.critic.trainable().map((p) => [p.name, Float64Array.from(p.value, (v, i) => v - before.get(p.name)![i]!)] as const));
}

void t.test('one SGD step moves each tensor by its own rate times its gradient', async (t) => {
  const names = (await learner()).networks.critic.trainable().map((p) => p.name);
  t.equal(names.length, 12, '2 heads × 3 layers × (w, b)');
  const rates = (w: number): Record<string, number> => Object.fromEntries(names.map((k) => [k, k === 'q1/l1/w' ? w : 1e-30]));
  const [a, b] = [await learner(rates(0.01)), await learner(rates(0.02))];
  t.teardown(async () => {
    await a.release();
    await b.release();
  });
  const [da, db] = [await deltas(a), await deltas(b)];
  t.ok(names.filter((k) => k !== 'q1/l1/w').every((k) => da.get(k)!.every((x) => Math.abs(x) < 1e-12)), 'a tensor at lr 1e-30 does not move');
  const moved = da.get('q1/l1/w')!;
  const mags = Array.from(moved, Math.abs).filter((x) => x > 0);
  t.ok(mags.length > 0 && Math.max(...mags) > 3 * Math.min(...mags), 'steps proportional to the gradient, not Adam’s ±lr of the first step');
  // float32 weights: the steps are differences of numbers ~10⁴ times larger, so compare in bulk.
  const off = Array.from(moved).reduce((s, x, i) => s + Math.abs(db.get('q1/l1/w')![i]! - 2 * x), 0) / mags.reduce((s, x) => s + 2 * x, 0);
  t.ok(off < 0.01, `twice the rate, twice the step (relative deviation ${off.toExponential(1)})`);
});

void t.test('a critic tensor without a rate is refused by name', async (t) => {
  await t.rejects(learner({ 'q1/l0/w': 0.01 }), /no positive SGD learning rate for critic tensor 'q1\/l0\/b' \(got undefined\)/);
});
