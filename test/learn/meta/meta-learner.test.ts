// The compiled meta-step: one ONNX run per meta-iteration that lowers the adapted critics' TD
// loss, learns the inner learning rates, and keeps an exportable ordinary critic.
import t from 'tap';
import { Rng } from '../../../src/core/rng.js';
import { MetaLearner, type TaskBatches } from '../../../src/learn/meta/meta-learner.js';
import type { Batch } from '../../../src/learn/batch-sampler.js';

const S = 2;
const A = 1;
const B = 32;
const n = { obsMean: [0, 0], obsStd: [1, 1], actCenter: [0], actHalfRange: [1] };

/** Task k: a violation follows when x + b_k·a > 1 (a robot whose input gain b_k differs per task). */
function batchOf(rng: Rng, gain: number): Batch {
  const b = { obs: new Float32Array(B * S), act: new Float32Array(B * A), cost: new Float32Array(B), next_obs: new Float32Array(B * S), next_act: new Float32Array(B * A), done: new Float32Array(B) };
  for (let i = 0; i < B; i++) {
    const x = rng.uniform(-1, 1);
    const a = rng.uniform(-1, 1);
    const nx = x + gain * a;
    b.obs.set([x, 0], i * S);
    b.act[i] = a;
    b.next_obs.set([nx, 0], i * S);
    b.next_act[i] = rng.uniform(-1, 1);
    b.cost[i] = b.done[i] = nx > 1 ? 1 : 0;
  }
  return b;
}

void t.test('meta-iterations lower the outer loss and move the inner learning rates', async (t) => {
  const rng = new Rng(3);
  const gains = [0.5, 0.8, 1.1, 1.4, 1.7];
  const tasks: TaskBatches[] = gains.map((g) => ({ inner: batchOf(rng, g), outer: batchOf(rng, g) }));
  const m = await MetaLearner.create({
    obsDim: S, actDim: A, actLow: [-1], actHigh: [1], normalizer: n, gammaRisk: 0.5, batch: B, metaBatch: 5,
    outerLr: 3e-3, innerLr: 0.05, innerLrLr: 1e-2, clipNorm: 40, tau: 0.005, recoveryLr: 1e-3, seed: 1, threads: 1, sizes: { hidden: [16, 16] },
  });
  t.teardown(() => m.release());
  const first = { ...(await m.step(tasks)) };
  let last = first;
  for (let i = 0; i < 60; i++) last = { ...(await m.step(tasks)) };
  t.ok(last.outerLoss < 0.7 * first.outerLoss, `outer loss ${first.outerLoss.toFixed(4)} → ${last.outerLoss.toFixed(4)}`);
  t.ok(Number.isFinite(last.recoveryLoss), 'the recovery policy trains against the meta critic');
  const lrs = Object.values(m.innerLearningRates());
  t.equal(lrs.length, 12, 'one per critic tensor: 2 heads × 3 layers × (w, b)');
  t.ok(lrs.some((x) => Math.abs(x - 0.05) > 1e-3), `learned: ${lrs.join(', ')}`);
  await t.rejects(m.step(tasks.slice(0, 4)), /meta step takes 5 tasks, got 4/);
  const q = await m.scoreCritic(Float32Array.from([0.9, 0, -0.9, 0]), Float32Array.from([1, -1]));
  t.ok(q[0]! > q[1]!, `the exported critic ranks the step over the edge riskier: ${q[0]!.toFixed(3)} > ${q[1]!.toFixed(3)}`);
});
