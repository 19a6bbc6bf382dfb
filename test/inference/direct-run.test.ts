import t, { type Test } from 'tap';
import * as ort from 'onnxruntime-node';
import { openDirect } from '../../src/inference/direct-run.js';
import { SeparateRiskModel } from '../../src/inference/onnx-risk-model.js';
import { sessionOptions } from '../../src/inference/session-factory.js';
import { Shield } from '../../src/inference/shield.js';
import { Rng } from '../../src/core/rng.js';
import { criticBytes, recoveryBytes, writeModelDir, type TestModelSpec } from './helpers/models.js';

const SPEC: TestModelSpec = { w: [0.5, -1, 0.25, 2, -0.5, 1], b: -0.3, recW: [0.2, -0.1, 0.3, 0.1, 0.4, -0.2, -0.3, 0.2, 0.1], recC: [0.05, -0.1, 0.2] };
const options = sessionOptions('cpu', { threads: 1, spinning: false });
const wiring = { obsDim: 3, actDim: 3, qRank: 2 };
const names = { criticObs: 'obs', criticAct: 'act', criticOut: 'q_risk', recoveryIn: 'obs', recoveryOut: 'action' };

/** Counts the public sessions' runs (every public session.run goes through the prototype). */
function countPublicRuns(t: Test): { readonly n: number } {
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } }).prototype;
  const original = proto.run;
  const counter = { n: 0 };
  proto.run = function (this: unknown, ...args: unknown[]) {
    counter.n++;
    return original.apply(this, args);
  };
  t.teardown(() => {
    proto.run = original;
  });
  return counter;
}

void t.test('ticks run on the direct session by default and decide exactly as the public run does', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  const runs = countPublicRuns(t);
  for (const fuse of [true, false]) {
    const direct = await Shield.load({ modelDir: dir, fuse, inference: 'in-thread' });
    const publicRun = await Shield.load({ modelDir: dir, fuse, inference: 'in-thread', directRun: false });
    const rng = new Rng(7);
    const rows: { obs: number[]; act: number[] }[] = Array.from({ length: 200 }, () => ({
      obs: [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2)],
      act: [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)],
    }));
    let before = runs.n;
    const a = [];
    for (const r of rows) {
      const d = await direct.decide(r.obs, r.act);
      a.push({ q: d.qRisk, source: d.source, action: [...d.action] });
    }
    t.equal(runs.n - before, 0, `${fuse ? 'fused' : 'separate'}: no public run on 200 direct ticks`);
    before = runs.n;
    const b = [];
    for (const r of rows) {
      const d = await publicRun.decide(r.obs, r.act);
      b.push({ q: d.qRisk, source: d.source, action: [...d.action] });
    }
    t.ok(runs.n - before >= 200, `${fuse ? 'fused' : 'separate'}: the public path ran its sessions`);
    t.ok(a.some((x) => x.source === 'recovery') && a.some((x) => x.source === 'task'), 'both task and recovery ticks are covered');
    t.same(a, b, `${fuse ? 'fused' : 'separate'}: the same Q_risk, source and action on every tick`);
    await direct.close();
    await publicRun.close();
  }
});

void t.test('a direct session that disagrees with its public twin is dropped, and ticks stay correct', async (t) => {
  // The direct session opens on another critic (the same inputs and outputs, other weights).
  const other = { ...SPEC, b: 0.7 };
  const critic = { session: await ort.InferenceSession.create(criticBytes(SPEC), options), direct: openDirect(criticBytes(other), options) };
  const recovery = { session: await ort.InferenceSession.create(recoveryBytes(SPEC), options), direct: openDirect(recoveryBytes(SPEC), options) };
  if (typeof critic.direct === 'string' || typeof recovery.direct === 'string') throw new Error('the direct sessions did not open');
  const m = new SeparateRiskModel(critic as never, recovery as never, wiring, names);
  t.equal(m.direct, true);
  const why = await m.checkDirect();
  t.match(why, /outputs differ from the public session's on probe 0/);
  t.equal(m.direct, false, 'the direct sessions are dropped');
  const q = await m.risk([0.1, 0.2, 0.3], [0.4, 0.5, 0.6]);
  const z = 0.5 * 0.1 - 1 * 0.2 + 0.25 * 0.3 + 2 * 0.4 - 0.5 * 0.5 + 0.6 - 0.3;
  t.ok(Math.abs(q - 1 / (1 + Math.exp(-z))) < 1e-6, `Q_risk from the public session: ${q}`);
  await m.close();
});

void t.test('direct twins that agree are kept; bytes ONNX Runtime refuses give a reason, not a throw', async (t) => {
  const bad = openDirect(new Uint8Array([1, 2, 3, 4]), options);
  t.type(bad, 'string');
  t.match(bad, /the native session did not load: /);
  const open = async (bytes: Uint8Array, withDirect: boolean) => {
    const direct = withDirect ? openDirect(bytes, options) : null;
    if (typeof direct === 'string') throw new Error(direct);
    return { session: await ort.InferenceSession.create(bytes, options), direct };
  };
  const both = new SeparateRiskModel(await open(criticBytes(SPEC), true), await open(recoveryBytes(SPEC), true), wiring, names);
  t.equal(await both.checkDirect(), null, 'they agree on every probe');
  t.equal(both.direct, true, 'and are kept');
  t.type(both.risk([0, 0, 0], [0, 0, 0]), 'number', 'a tick answers synchronously');
  t.ok(both.recovery() instanceof Float32Array, 'so does the recovery policy');
  await both.close();
  const one = new SeparateRiskModel(await open(criticBytes(SPEC), true), await open(recoveryBytes(SPEC), false), wiring, names);
  t.equal(await one.checkDirect(), 'only one of the two sessions opened directly', 'both or neither');
  t.equal(one.direct, false);
  const pending = one.risk([0, 0, 0], [0, 0, 0]);
  t.type(pending, Promise, 'ticks then use the public run');
  await pending;
  await one.close();
});

void t.test('ticks answered synchronously still let the event loop turn, and a turn is not counted as tick latency', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  for (const inference of ['in-thread', 'worker'] as const) {
    const shield = await Shield.load({ modelDir: dir, inference });
    let fired = 0;
    const timer = setInterval(() => fired++, 5);
    // One macrotask that blocks the thread for 200 ms while ticks run back to back.
    let blocked = false;
    setTimeout(() => {
      const end = performance.now() + 200;
      while (performance.now() < end);
      blocked = true;
    }, 20);
    const until = performance.now() + 400;
    let ticks = 0;
    while (performance.now() < until) {
      await shield.decide([0.1, 0.2, 0.3], [0.1, 0, 0]);
      ticks++;
    }
    clearInterval(timer);
    t.ok(blocked, `${inference}: the blocking macrotask ran while ticks went back to back`);
    t.ok(fired >= 10, `${inference}: a 5 ms interval fired ${fired} times in 400 ms of back-to-back ticks`);
    const max = shield.stats().tickUs.max;
    t.ok(max < 100_000, `${inference}: the longest tick, ${Math.round(max)} µs, does not include the 200 ms turn (${ticks} ticks)`);
    await shield.close();
  }
});
