import t, { type Test } from 'tap';
import { truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Shield } from '../../src/inference/shield.js';
import { cardFor, writeModelDir, type TestModelSpec } from './helpers/models.js';

// Q_risk = sigmoid(4·a0 − 2): above ε = 0.5 exactly when the proposed a0 > 0.5.
// π_rec(s) = W·s + c with W picking obs[0] into every action component, c = 0.1.
const SPEC: TestModelSpec = {
  w: [0, 0, 0, 4, 0, 0],
  b: -2,
  recW: [1, 1, 1, 0, 0, 0, 0, 0, 0],
  recC: [0.1, 0.1, 0.1],
};
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const f32 = (xs: number[]): number[] => [...Float32Array.from(xs)];

async function expectRule(t: Test, shield: Shield): Promise<void> {
  let d = await shield.decide([0.2, 5, 5], [0.4, -3, 0.3]);
  t.equal(d.source, 'task');
  t.ok(Math.abs(d.qRisk - sig(4 * 0.4 - 2)) < 1e-6, `qRisk ${d.qRisk}`);
  t.same([...d.action], f32([0.4, -1, 0.3]), 'task action, clamped to [-1, 1]');
  d = await shield.decide([0.2, 5, 5], [0.6, 0, 0]);
  t.equal(d.source, 'recovery');
  t.same([...d.action], f32([0.3, 0.3, 0.3]), 'π_rec(s) = obs[0] + 0.1');
  d = await shield.decide([3, 0, 0], [0.9, 0, 0]);
  t.same([...d.action], f32([1, 1, 1]), 'recovery action clamped to the bounds');
  d = await shield.decide([0, 0, 0], [0.5, 0, 0]);
  t.equal(d.source, 'task', 'Q_risk = ε exactly is safe');
}

void t.test('fused and separate sessions decide the same, end to end on ONNX Runtime', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  for (const fuse of [true, false]) {
    const shield = await Shield.load({ modelDir: dir, fuse });
    t.teardown(() => shield.close());
    t.equal(shield.fused, fuse);
    t.equal(shield.provider, 'cpu');
    t.equal(shield.modelVersion, '1');
    await expectRule(t, shield);
    const s = shield.stats();
    t.equal(s.ticks, 4);
    t.equal(s.interventions, 2);
  }
});

void t.test('models from other tools: custom tensor names declared in the card', async (t) => {
  const names = { obs: 'state', act: 'u', q: 'risk', recIn: 'observation', recOut: 'mu' };
  const shield = await Shield.load({ modelDir: await writeModelDir(t.testdir(), { ...SPEC, names }) });
  t.teardown(() => shield.close());
  t.ok(shield.fused);
  await expectRule(t, shield);
});

void t.test('different opsets cannot be fused: two sessions, same decisions', async (t) => {
  const shield = await Shield.load({ modelDir: await writeModelDir(t.testdir(), { ...SPEC, criticOpset: 13, recoveryOpset: 17 }) });
  t.teardown(() => shield.close());
  t.equal(shield.fused, false);
  t.match(shield.fuseNote, /opset 13/);
  await expectRule(t, shield);
});

void t.test('ε and hysteresis: card values, and overrides', async (t) => {
  const dir = await writeModelDir(t.testdir(), { ...SPEC, card: { epsRisk: 0.3, hysteresis: 0.1 } });
  const a = await Shield.load({ modelDir: dir });
  t.teardown(() => a.close());
  t.equal(a.epsRisk, 0.3);
  // q(a0) = sigmoid(4·a0 − 2): a0 = 0.35 → 0.354 (> 0.3), a0 = 0.3 → 0.310, a0 = 0.1 → 0.168.
  t.equal((await a.decide([0, 0, 0], [0.35, 0, 0])).source, 'recovery');
  t.equal((await a.decide([0, 0, 0], [0.3, 0, 0])).source, 'recovery', 'hysteresis: 0.31 ≥ ε − h');
  t.equal((await a.decide([0, 0, 0], [0.1, 0, 0])).source, 'task', '0.168 < ε − h = 0.2');
  const b = await Shield.load({ modelDir: dir, epsRisk: 0.9, hysteresis: 0 });
  t.teardown(() => b.close());
  t.equal((await b.decide([0, 0, 0], [0.9, 0, 0])).source, 'task', 'q 0.83 ≤ overridden ε 0.9');
  await t.rejects(Shield.load({ modelDir: dir, epsRisk: 0.2, hysteresis: 0.5 }), { code: 'E_CONFIG', message: /hysteresis 0.5/ });
});

void t.test('fail-safe action from the card on bad input; never a throw', async (t) => {
  const shield = await Shield.load({ modelDir: await writeModelDir(t.testdir(), { ...SPEC, card: { failsafe: [0, 0, -0.5] } }), staleAfterMs: 100 });
  t.teardown(() => shield.close());
  let d = await shield.decide([0, NaN, 0], [0, 0, 0]);
  t.equal(d.source, 'failsafe');
  t.equal(d.failsafeReason, 'non-finite');
  t.same([...d.action], [0, 0, -0.5]);
  d = await shield.decide([0, 0], [0, 0, 0]);
  t.equal(d.failsafeReason, 'bad-length');
  d = await shield.decide([0, 0, 0], [0, 0, 0], { stateStampMs: Date.now() - 1000 });
  t.equal(d.failsafeReason, 'stale');
  d = await shield.decide([0, 0, 0], [0, 0, 0], { stateStampMs: Date.now() });
  t.equal(d.source, 'task');
  t.same(shield.stats().failsafesByReason, { 'bad-length': 1, 'non-finite': 1, stale: 1, 'inference-error': 0, deadline: 0, 'out-of-range': 0, 'stale-image': 0, 'bad-frame': 0 });
});

void t.test('bad model directories are refused at load with a clear E_MODEL', async (t) => {
  const refuse = async (name: string, dir: string, message: RegExp, opts: { robot?: string } = {}) => {
    await t.rejects(Shield.load({ modelDir: dir, ...opts }), { code: 'E_MODEL', message }, name);
  };
  const missing = await writeModelDir(t.testdir({ a: {} }) + '/a', SPEC);
  await unlink(join(missing, 'critic.onnx'));
  await refuse('missing critic', missing, /critic\.onnx: cannot read the critic model: no such file/);

  const trunc = await writeModelDir(t.testdir() + '/b', SPEC);
  await truncate(join(trunc, 'recovery.onnx'), 40);
  await refuse('truncated recovery', trunc, /recovery\.onnx: not a valid ONNX model \(40 bytes; truncated\?\)/);

  const other = await writeModelDir(t.testdir() + '/c', SPEC);
  await refuse('card for another robot', other, /model is for robot 'test-bot', not 'dvrk-reacher'/, { robot: 'dvrk-reacher' });

  const dims = await writeModelDir(t.testdir() + '/d', SPEC);
  await writeFile(join(dims, 'model.json'), JSON.stringify({ ...cardFor(SPEC), obsDim: 4 }));
  await refuse('card dims differ from the model', dims, /critic input 'obs' has 3 columns, card says obsDim 4/);

  const names = await writeModelDir(t.testdir() + '/e', SPEC);
  const card = cardFor(SPEC);
  await writeFile(join(names, 'model.json'), JSON.stringify({ ...card, critic: { ...card.critic, output: 'risk' } }));
  await refuse('card names a missing output', names, /critic has no output 'risk' \(its outputs: 'q_risk'\)/);

  const noSigmoid = await writeModelDir(t.testdir() + '/f', { ...SPEC, w: [1, 1, 1, 1, 1, 1], noSigmoid: true });
  await refuse('critic without sigmoid fails the check batch', noSigmoid, /check batch sample \d+: Q_risk .* is outside \[0, 1\]/);

  await t.rejects(Shield.load({ modelDir: t.testdir() + '/nowhere' }), { code: 'E_MODEL', message: /model\.json: cannot read model card/ });
});

void t.test('CUDA: used when loadable, else one warning and CPU; requireCuda refuses', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  const warnings: string[] = [];
  const shield = await Shield.load({ modelDir: dir, provider: 'cuda', logger: { warn: (m) => warnings.push(m) } });
  t.teardown(() => shield.close());
  if (shield.provider === 'cuda') {
    t.equal(warnings.length, 0);
  } else {
    t.equal(shield.provider, 'cpu');
    t.equal(warnings.length, 1, 'exactly one warning');
    t.match(warnings[0], /CUDA execution provider unavailable .* running on CPU/);
    await t.rejects(Shield.load({ modelDir: dir, provider: 'cuda', requireCuda: true }), { code: 'E_UNAVAILABLE', message: /CUDA execution provider required/ });
  }
  await expectRule(t, shield);
});
