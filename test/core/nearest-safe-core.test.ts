import t from 'tap';
import { ShieldCore } from '../../src/core/shield-core.js';
import { FakeRiskModel, coreModel } from './fakes.js';

// Q_risk = the proposed action's first component: > 0.5 is unsafe. π_rec(s) = [0.2, 5].
const q0 = (_o: ArrayLike<number>, a: ArrayLike<number>): number => a[0] as number;

/** A fake with a scripted search that records what the core hands it. */
class SearchingModel extends FakeRiskModel {
  seen: { proposed: number[]; fallback: number[]; threshold: number }[] = [];
  answer = Float32Array.from([0.5, 3]);
  throwOnSearch = false;

  constructor() {
    super(2, 2, q0, [0.2, 5]);
  }

  nearestSafe(_obs: ArrayLike<number>, proposed: Float32Array, fallback: Float32Array, threshold: number): Promise<Float32Array> {
    this.seen.push({ proposed: [...proposed], fallback: [...fallback], threshold });
    if (this.throwOnSearch) return Promise.reject(new Error('search boom'));
    return Promise.resolve(this.answer);
  }
}

void t.test('nearest-safe: searched only on risky ticks, around the clamped proposal, with the clamped π_rec as fallback', async (t) => {
  const m = new SearchingModel();
  const core = new ShieldCore({ ...coreModel(m, { epsRisk: 0.5, hysteresis: 0.1 }), recoveryMode: 'nearest-safe' });
  let d = await core.decide([0, 0], [0.3, -4]);
  t.equal(d.source, 'task');
  t.equal(m.seen.length, 0, 'no search on a task tick');
  d = await core.decide([0, 0], [0.9, 7]);
  t.equal(d.source, 'recovery');
  t.same(d.action, Float32Array.from([0.5, 1]), 'the search result, clamped');
  t.same(m.seen, [{ proposed: [Math.fround(0.9), 1], fallback: [Math.fround(0.2), 1], threshold: 0.4 }], 'threshold ε − h');
  t.equal(d.qRisk, Math.fround(0.9), 'qRisk stays Q_risk(s, a_task)');
  t.equal(core.stats().interventions, 1);
});

void t.test('nearest-safe: a failing or non-finite search is the fail-safe, never a throw', async (t) => {
  const m = new SearchingModel();
  const core = new ShieldCore({ ...coreModel(m, { failsafe: [0, -0.5] }), recoveryMode: 'nearest-safe' });
  m.throwOnSearch = true;
  let d = await core.decide([0, 0], [0.9, 0]);
  t.equal(d.failsafeReason, 'inference-error');
  t.same([...d.action], [0, -0.5]);
  t.match(core.lastError, { message: 'search boom' });
  m.throwOnSearch = false;
  m.answer = Float32Array.from([NaN, 0]);
  d = await core.decide([0, 0], [0.9, 0]);
  t.equal(d.failsafeReason, 'inference-error');
  t.equal(core.stats().failsafes, 2);
});

void t.test('policy mode never searches; nearest-safe on a model without a search is refused', async (t) => {
  const m = new SearchingModel();
  const core = new ShieldCore(coreModel(m));
  const d = await core.decide([0, 0], [0.9, 0]);
  t.same([...d.action], [Math.fround(0.2), 1], 'π_rec(s), clamped');
  t.equal(m.seen.length, 0);
  t.throws(() => new ShieldCore({ ...coreModel(new FakeRiskModel(2, 2, q0, [0, 0])), recoveryMode: 'nearest-safe' }), {
    code: 'E_MODEL',
    message: /recovery mode 'nearest-safe' needs a model that can search/,
  });
  t.end();
});
