import t from 'tap';
import { ShieldCore } from '../../src/core/shield-core.js';
import { FakeClock, FakeRiskModel, coreModel } from './fakes.js';

// Q_risk = the proposed action's first component: > 0.5 is unsafe.
const q0 = (_o: ArrayLike<number>, a: ArrayLike<number>): number => a[0] as number;

void t.test('task action passes (clamped); risky action is replaced by the clamped recovery action', async (t) => {
  const m = new FakeRiskModel(2, 2, q0, [0.2, 5]);
  const core = new ShieldCore(coreModel(m));
  let d = await core.decide([0, 0], [0.4, -3]);
  t.equal(d.source, 'task');
  t.same([...d.action], [0.4000000059604645, -1], 'task action clamped to [-1, 1]');
  t.equal(d.qRisk, Math.fround(0.4), 'Q_risk of the clamped float32 action');
  d = await core.decide([0, 0], [0.9, 0]);
  t.equal(d.source, 'recovery');
  t.same([...d.action], [0.20000000298023224, 1], 'recovery action clamped');
  t.equal(d.failsafeReason, null);
  const s = core.stats();
  t.equal(s.ticks, 2);
  t.equal(s.interventions, 1);
  t.equal(s.failsafes, 0);
});

void t.test('the critic judges the proposal as it would execute: clamped to the bounds', async (t) => {
  // Q_risk = a[0]/2: a proposal of 1.5 (executes as 1) is at ε = 0.5, not above it.
  const seen: number[] = [];
  const m = new FakeRiskModel(1, 1, (_o, a) => (seen.push(a[0] as number), (a[0] as number) / 2), [0]);
  const core = new ShieldCore(coreModel(m));
  const d = await core.decide([0], [1.5]);
  t.same(seen, [1], 'the critic saw the clamped action');
  t.equal(d.source, 'task');
  t.same([...d.action], [1]);
});

void t.test('the result object and its action array are reused', async (t) => {
  const core = new ShieldCore(coreModel(new FakeRiskModel(1, 1, q0, [0])));
  const a = await core.decide([0], [0.1]);
  const action = a.action;
  const b = await core.decide([0], [0.9]);
  t.equal(a, b);
  t.equal(b.action, action);
});

void t.test('every fail-safe reason yields the fail-safe action and is counted', async (t) => {
  const clock = new FakeClock();
  const m = new FakeRiskModel(2, 2, q0, [0, 0]);
  const core = new ShieldCore(coreModel(m, { failsafe: [0.1, -5] }), { clock, deadlineUs: 1000, staleAfterMs: 50 });
  const expectFailsafe = async (reason: string, obs: ArrayLike<number>, act: ArrayLike<number>, stamp?: number) => {
    const d = await core.decide(obs, act, stamp === undefined ? undefined : { stateStampMs: stamp });
    t.equal(d.source, 'failsafe', reason);
    t.equal(d.failsafeReason, reason);
    t.same([...d.action], [0.10000000149011612, -1], 'fail-safe action, clamped to bounds');
  };
  await expectFailsafe('bad-length', [0, 0, 0], [0, 0]);
  await expectFailsafe('bad-length', [0, 0], [0]);
  await expectFailsafe('non-finite', [0, NaN], [0, 0]);
  await expectFailsafe('non-finite', [0, 0], [Infinity, 0]);
  await expectFailsafe('stale', [0, 0], [0, 0], 0);
  await expectFailsafe('stale', [0, 0], [0, 0], clock.ms - 51);
  t.equal((await core.decide([0, 0], [0, 0], { stateStampMs: clock.ms - 50 })).source, 'task', '50 ms old is still fresh');
  m.throwOnRisk = true;
  await expectFailsafe('inference-error', [0, 0], [0, 0]);
  t.match(String(core.lastError), /boom/);
  m.throwOnRisk = false;
  m.throwOnRecovery = true;
  await expectFailsafe('inference-error', [0, 0], [0.9, 0]);
  m.throwOnRecovery = false;
  m.qOf = () => NaN;
  await expectFailsafe('inference-error', [0, 0], [0, 0]);
  m.qOf = q0;
  m.rec = Float32Array.from([NaN, 0]);
  await expectFailsafe('inference-error', [0, 0], [0.9, 0]);
  m.rec = Float32Array.from([0, 0]);
  m.onRisk = () => {
    clock.us += 1001;
  };
  await expectFailsafe('deadline', [0, 0], [0, 0]);
  m.onRisk = () => {
    clock.us += 999;
  };
  t.equal((await core.decide([0, 0], [0, 0])).source, 'task', 'within the deadline');
  const s = core.stats();
  t.same(s.failsafesByReason, { 'bad-length': 2, 'non-finite': 2, stale: 2, 'inference-error': 4, deadline: 1, 'out-of-range': 0, 'stale-image': 0, 'bad-frame': 0 });
  t.equal(s.failsafes, 11);
  t.equal(s.ticks, 13);
  t.equal(s.interventions, 0, 'a failed recovery tick is not an intervention');
});

void t.test('garbage inputs never throw', async (t) => {
  const core = new ShieldCore(coreModel(new FakeRiskModel(2, 2, q0, [0, 0])));
  // @ts-expect-error: callers from JavaScript may pass anything
  t.equal((await core.decide(undefined, null)).failsafeReason, 'bad-length');
});

void t.test('tick latency comes from the injected clock', async (t) => {
  const clock = new FakeClock();
  const m = new FakeRiskModel(1, 1, q0, [0]);
  const core = new ShieldCore(coreModel(m), { clock });
  let k = 0;
  m.onRisk = () => {
    clock.us += k++ < 99 ? 20 : 500;
  };
  for (let i = 0; i < 100; i++) await core.decide([0], [0]);
  const s = core.stats();
  // 1 µs buckets, reported at their upper edge.
  t.ok(s.tickUs.p50 >= 20 && s.tickUs.p50 <= 21, `p50 ${s.tickUs.p50}`);
  t.ok(s.tickUs.p99 >= 20 && s.tickUs.p99 <= 21, `p99 ${s.tickUs.p99}: the one 500 µs tick is the top 1%`);
  t.equal(s.tickUs.max, 500);
});

void t.test('overlapping decide() calls are refused; closed core refuses', async (t) => {
  const core = new ShieldCore(coreModel(new FakeRiskModel(1, 1, q0, [0])));
  const p = core.decide([0], [0]);
  await t.rejects(core.decide([0], [0]), { code: 'E_USAGE' });
  await p;
  core.close();
  await t.rejects(core.decide([0], [0]), { code: 'E_USAGE' });
});

void t.test('swap waits for the running tick and installs before the next', async (t) => {
  const a = new FakeRiskModel(1, 1, () => 0.9, [0.1]);
  const b = new FakeRiskModel(1, 1, () => 0.9, [0.7]);
  const core = new ShieldCore(coreModel(a));
  let release!: () => void;
  a.onRisk = () => new Promise<void>((r) => (release = r));
  const tick = core.decide([0], [0]);
  let swapped = false;
  const swap = core.swap(coreModel(b)).then((old) => {
    swapped = true;
    return old;
  });
  await new Promise((r) => setImmediate(r));
  t.equal(swapped, false, 'not during the tick');
  release();
  const d = await tick;
  t.same([...d.action], [0.10000000149011612], 'the running tick finished on the old model');
  t.equal(await swap, a, 'resolves with the replaced model');
  t.same([...(await core.decide([0], [0])).action], [0.699999988079071], 'next tick uses the new model');
  await t.rejects(core.swap(coreModel(new FakeRiskModel(2, 1, () => 0, [0]))), { code: 'E_MODEL', message: /obsDim 2/ });
});

void t.test('hysteresis state survives a swap', async (t) => {
  const a = new FakeRiskModel(1, 1, () => 0.9, [0.1]);
  const b = new FakeRiskModel(1, 1, () => 0.4, [0.2]);
  const core = new ShieldCore(coreModel(a, { hysteresis: 0.2 }));
  t.equal((await core.decide([0], [0])).source, 'recovery');
  await core.swap(coreModel(b, { hysteresis: 0.2 }));
  t.equal((await core.decide([0], [0])).source, 'recovery', 'Q 0.4 ≥ ε − h = 0.3: stays in recovery');
});
