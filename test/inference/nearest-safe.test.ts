import t, { type Test } from 'tap';
import * as ort from 'onnxruntime-node';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nearestSafeCandidates } from '../../src/core/nearest-safe-candidates.js';
import { encodeModel, floatTensor, floatValueInfo, model, node } from '../../src/nn/onnx-proto.js';
import { Shield } from '../../src/inference/shield.js';
import { cardFor, recoveryBytes, writeModelDir, type TestModelSpec } from './helpers/models.js';

// Q_risk = sigmoid(4·a0 − 2): with ε = 0.5 an action is risky exactly when a0 > 0.5.
// π_rec(s) = obs[0] + 0.1 in every component.
const SPEC: TestModelSpec = { w: [0, 0, 0, 4, 0, 0], b: -2, recW: [1, 1, 1, 0, 0, 0, 0, 0, 0], recC: [0.1, 0.1, 0.1] };
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const qOf = (a: ArrayLike<number>): number => sig(4 * (a[0] as number) - 2);

interface Box {
  low: number[];
  high: number[];
}

/**
 * What the search must return, computed here in plain JS from the candidate set: the candidate
 * nearest to the (clamped) proposal in bounds-normalised L2 among those with Q ≤ threshold,
 * else the fallback.
 */
function expected(proposed: number[], fallback: number[], threshold: number, box: Box): { action: number[]; dist: number } {
  const A = proposed.length;
  const mid = box.low.map((l, i) => (l + (box.high[i] as number)) / 2);
  const half = box.low.map((l, i) => ((box.high[i] as number) - l) / 2);
  const norm = (a: number[]): number[] => a.map((x, i) => (x - (mid[i] as number)) / (half[i] as number));
  const u = norm(proposed);
  const r = Math.hypot(...u);
  const c = nearestSafeCandidates(A);
  const rows: number[][] = [];
  for (let k = 0; k < c.count; k++) {
    rows.push(u.map((x, i) => (c.scale[k * A + i] as number) * x + (c.radial[k * A + i] as number) * r + (c.offset[k * A + i] as number)));
  }
  rows.push(norm(fallback));
  let best: { action: number[]; dist: number } = { action: fallback, dist: Infinity };
  for (const row of rows) {
    const uc = row.map((x) => Math.min(1, Math.max(-1, x)));
    const a = uc.map((x, i) => (mid[i] as number) + (half[i] as number) * x);
    const dist = Math.hypot(...uc.map((x, i) => x - (u[i] as number)));
    if (qOf(a) <= threshold && dist < best.dist - 1e-6) best = { action: a, dist };
  }
  return best;
}

function close(t: Test, got: ArrayLike<number>, want: number[], msg: string): void {
  const ok = want.every((w, i) => Math.abs((got[i] as number) - w) < 1e-5);
  t.ok(ok, `${msg}: got [${Array.from(got, (x) => x.toFixed(4)).join(', ')}], want [${want.map((x) => x.toFixed(4)).join(', ')}]`);
}

void t.test('nearest-safe executes the candidate closest to the proposal that the critic rates safe', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  const box = { low: [-1, -1, -1], high: [1, 1, 1] };
  for (const fuse of [true, false]) {
    const shield = await Shield.load({ modelDir: dir, recoveryMode: 'nearest-safe', fuse });
    t.teardown(() => shield.close());
    t.equal(shield.recoveryMode, 'nearest-safe');
    const obs = [0.2, 0, 0];
    const rec = [0.3, 0.3, 0.3];
    let d = await shield.decide(obs, [0.9, 0, 0]);
    t.equal(d.source, 'recovery', 'a risky proposal is still a recovery tick');
    t.ok(Math.abs(d.qRisk - qOf([0.9])) < 1e-6, 'qRisk stays Q_risk(s, a_task)');
    close(t, d.action, [0.45, 0, 0], 'straight ahead at half speed: a0 = 0.45 ≤ 0.5, nothing else changed');
    for (const p of [[0.9, 0.3, -0.2], [1, 1, 1], [0.7, -0.6, 0.1], [0.55, 0, 0.9], [3, -3, 0]]) {
      d = await shield.decide(obs, p);
      const clamped = p.map((x) => Math.min(1, Math.max(-1, x)));
      const want = expected(clamped, rec, 0.5, box);
      close(t, d.action, want.action, `proposal [${p.join(', ')}], nearest safe at distance ${want.dist.toFixed(3)}`);
      t.ok((d.action[0] as number) <= 0.5, 'the executed action is safe');
      t.equal(d.source, 'recovery');
    }
    d = await shield.decide(obs, [0.4, 0.9, -0.9]);
    t.equal(d.source, 'task', 'a safe proposal passes untouched');
    t.same(shield.nearestSafeStats(), { searches: 6, fallbacks: 0 });
  }
});

void t.test('distances are measured in action space normalised by the bounds', async (t) => {
  // a0 ∈ [−1, 1], a1 ∈ [−0.1, 0.1]: a step of 0.1 in a1 is as large as a step of 1 in a0.
  const box = { low: [-1, -0.1, -1], high: [1, 0.1, 1] };
  const dir = await writeModelDir(t.testdir(), { ...SPEC, card: { actLow: box.low, actHigh: box.high } });
  const shield = await Shield.load({ modelDir: dir, recoveryMode: 'nearest-safe' });
  t.teardown(() => shield.close());
  for (const p of [[0.9, 0.05, 0], [0.8, -0.1, 0.5]]) {
    const d = await shield.decide([0.2, 0, 0], p);
    close(t, d.action, expected(p, [0.1, 0.1, 0.3], 0.5, box).action, `proposal [${p.join(', ')}]`);
  }
});

void t.test('with nothing safe the recovery policy acts, as in policy mode', async (t) => {
  // Q_risk = sigmoid(5) ≈ 0.993 for every action.
  const dir = await writeModelDir(t.testdir(), { ...SPEC, w: [0, 0, 0, 0, 0, 0], b: 5 });
  const ns = await Shield.load({ modelDir: dir, recoveryMode: 'nearest-safe' });
  const policy = await Shield.load({ modelDir: dir });
  t.teardown(() => Promise.all([ns.close(), policy.close()]));
  t.equal(policy.recoveryMode, 'policy', 'policy is the default');
  t.equal(policy.nearestSafeStats(), null);
  for (const obs of [[0.2, 0, 0], [-0.5, 1, 1], [3, 0, 0]]) {
    const a = await ns.decide(obs, [0.9, 0, 0]);
    const got = [...a.action];
    const b = await policy.decide(obs, [0.9, 0, 0]);
    t.equal(a.source, 'recovery');
    t.same(got, [...b.action], `obs [${obs.join(', ')}]: π_rec(s), clamped`);
  }
  t.same(ns.nearestSafeStats(), { searches: 3, fallbacks: 3 });
});

void t.test('hysteresis: a candidate must be below ε − h, the rule\'s exit threshold', async (t) => {
  const dir = await writeModelDir(t.testdir(), { ...SPEC, card: { epsRisk: 0.5, hysteresis: 0.2 } });
  const shield = await Shield.load({ modelDir: dir, recoveryMode: 'nearest-safe' });
  t.teardown(() => shield.close());
  const box = { low: [-1, -1, -1], high: [1, 1, 1] };
  const d = await shield.decide([0.2, 0, 0], [0.9, 0.2, 0]);
  t.ok(qOf(d.action) <= 0.3, `Q_risk of the executed action ${qOf(d.action).toFixed(3)} ≤ 0.3`);
  close(t, d.action, expected([0.9, 0.2, 0], [0.3, 0.3, 0.3], 0.3, box).action, 'nearest with Q ≤ 0.3');
});

void t.test('task ticks stay one session.run; a recovery tick adds exactly one', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  // Every session.run of every session goes through the class's prototype.
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } }).prototype;
  const original = proto.run;
  let runs = 0;
  proto.run = function (this: unknown, ...args: unknown[]) {
    runs++;
    return original.apply(this, args);
  };
  t.teardown(() => {
    proto.run = original;
  });
  for (const [fuse, perTask, perRecovery] of [[true, 1, 2], [false, 1, 3]] as const) {
    for (const mode of ['policy', 'nearest-safe'] as const) {
      // In-thread on the public run, so the patched prototype sees the runs (a worker and a
      // direct session run the same RiskModel calls).
      const shield = await Shield.load({ modelDir: dir, recoveryMode: mode, fuse, inference: 'in-thread', directRun: false });
      runs = 0;
      for (let i = 0; i < 10; i++) await shield.decide([0, 0, 0], [0.1 * (i % 5), 0, 0]);
      t.equal(runs, 10 * perTask, `${mode}, ${fuse ? 'fused' : 'separate'}: 10 task ticks, ${10 * perTask} runs`);
      runs = 0;
      for (let i = 0; i < 10; i++) await shield.decide([0, 0, 0], [0.9, 0, 0]);
      const want = 10 * (mode === 'policy' ? perRecovery - 1 : perRecovery);
      t.equal(runs, want, `${mode}, ${fuse ? 'fused' : 'separate'}: 10 recovery ticks, ${want} runs`);
      await shield.close();
    }
  }
});

void t.test('the card selects the mode; the option overrides it; bad values are refused', async (t) => {
  const dir = await writeModelDir(t.testdir(), { ...SPEC, card: { recoveryMode: 'nearest-safe' } });
  const a = await Shield.load({ modelDir: dir });
  t.teardown(() => a.close());
  t.equal(a.recoveryMode, 'nearest-safe');
  close(t, (await a.decide([0.2, 0, 0], [0.9, 0, 0])).action, [0.45, 0, 0], 'the card\'s mode is used');
  const b = await Shield.load({ modelDir: dir, recoveryMode: 'policy' });
  t.teardown(() => b.close());
  close(t, (await b.decide([0.2, 0, 0], [0.9, 0, 0])).action, [0.3, 0.3, 0.3], 'the option wins');
  await t.rejects(Shield.load({ modelDir: dir, recoveryMode: 'closest' as 'policy' }), { code: 'E_CONFIG', message: /recoveryMode 'closest' is not one of policy, nearest-safe/ });
  const bad = await writeModelDir(t.testdir() + '/bad', { ...SPEC, card: { recoveryMode: 'closest' as 'policy' } });
  await t.rejects(Shield.load({ modelDir: bad }), { code: 'E_MODEL', message: /recoveryMode: .*\(got "closest"\)/ });
});

void t.test('a critic that cannot run batched is refused for nearest-safe, at load', async (t) => {
  const dir = join(t.testdir(), 'fixed');
  await mkdir(dir, { recursive: true });
  const critic = model({
    name: 'critic',
    node: [node('Concat', ['obs', 'act'], ['x'], { ints: { axis: 1 } }), node('MatMul', ['x', 'W'], ['z']), node('Sigmoid', ['z'], ['q_risk'])],
    initializer: [floatTensor('W', [6, 1], [0, 0, 0, 4, 0, 0])],
    input: [floatValueInfo('obs', [1, 3]), floatValueInfo('act', [1, 3])],
    output: [floatValueInfo('q_risk', [1, 1])],
  });
  await writeFile(join(dir, 'critic.onnx'), encodeModel(critic));
  await writeFile(join(dir, 'recovery.onnx'), recoveryBytes(SPEC));
  await writeFile(join(dir, 'model.json'), JSON.stringify(cardFor(SPEC)));
  const policy = await Shield.load({ modelDir: dir });
  await policy.close();
  await t.rejects(Shield.load({ modelDir: dir, recoveryMode: 'nearest-safe' }), {
    code: 'E_MODEL',
    message: /critic input 'obs' has a fixed batch of 1; nearest-safe recovery runs the critic at batch 84/,
  });
  const old = await writeModelDir(t.testdir() + '/old', { ...SPEC, criticOpset: 8, recoveryOpset: 8 });
  await t.rejects(Shield.load({ modelDir: old, recoveryMode: 'nearest-safe' }), { code: 'E_MODEL', message: /opset ≥ 9, the critic uses 8/ });
});
