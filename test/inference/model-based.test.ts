import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel, floatTensor, floatValueInfo, model, node, type INodeProto, type ITensorProto } from '../../src/nn/onnx-proto.js';
import { parseModelCard } from '../../src/config/model-card.js';
import { Shield } from '../../src/inference/shield.js';
import { loadModel } from '../../src/inference/model-loader.js';
import { PlannerRiskModel } from '../../src/inference/planner-model.js';
import { SessionFactory } from '../../src/inference/session-factory.js';
import { cardFor, recoveryBytes } from './helpers/models.js';
import type { PlannerSettingsInput } from '../../src/config/planner-settings.js';

// A toy problem whose optimum is known: obs 2, act 2, s′ = s + a exactly (log-variance −30), and a
// "critic" Q(s, a) = min(1, 0.1·‖a − a*‖² + 0.1·‖s − s*‖²), a quadratic where the plans go.
const S = 2;
const A = 2;
const E = 2;

function criticOnnx(aStar: number[], sStar: number[]): Uint8Array {
  const nodes: INodeProto[] = [
    node('Sub', ['act', 'a_star'], ['da']),
    node('Mul', ['da', 'da'], ['da2']),
    node('Sub', ['obs', 's_star'], ['ds']),
    node('Mul', ['ds', 'ds'], ['ds2']),
    node('Add', ['da2', 'ds2'], ['sq']),
    node('MatMul', ['sq', 'tenth'], ['q_raw']),
    node('Min', ['q_raw', 'one'], ['q_risk']),
  ];
  const inits: ITensorProto[] = [floatTensor('a_star', [A], aStar), floatTensor('s_star', [S], sStar), floatTensor('tenth', [S, 1], [0.1, 0.1]), floatTensor('one', [], [1])];
  return encodeModel(model({ name: 'toy_critic', node: nodes, initializer: inits, input: [floatValueInfo('obs', ['N', S]), floatValueInfo('act', ['N', A])], output: [floatValueInfo('q_risk', ['N', 1])] }));
}

/** s′ = s + a; `nanAbove`: the mean is NaN where |s_0| > it (Sqrt of a negative number). */
function dynamicsOnnx(o: { ensemble?: number; obsCols?: number; nanAbove?: number; nanAlways?: boolean } = {}): Uint8Array {
  const e = o.ensemble ?? E;
  const nodes: INodeProto[] = [node('Add', ['obs', 'act'], ['next'])];
  const inits: ITensorProto[] = [floatTensor('lv', [1, 1, 1], [-30]), floatTensor('zero', [], [0])];
  if (o.nanAbove !== undefined) {
    // mean = next + 0·sqrt(nanAbove² − s²): finite inside, NaN outside.
    nodes.push(node('Mul', ['obs', 'obs'], ['s2']), node('Sub', ['lim2', 's2'], ['room']), node('Sqrt', ['room'], ['root']), node('Mul', ['root', 'zero'], ['z']), node('Add', ['next', 'z'], ['mean']));
    inits.push(floatTensor('lim2', [], [o.nanAbove ** 2]));
  } else if (o.nanAlways === true) {
    nodes.push(node('Div', ['zero', 'zero'], ['nan']), node('Add', ['next', 'nan'], ['mean']));
  } else {
    nodes.push(node('Identity', ['next'], ['mean']));
  }
  nodes.push(node('Mul', ['obs', 'zero'], ['z0']), node('Add', ['z0', 'lv'], ['logvar']));
  return encodeModel(model({
    name: 'toy_dynamics',
    node: nodes,
    initializer: inits,
    input: [floatValueInfo('obs', [e, 'N', o.obsCols ?? S]), floatValueInfo('act', [e, 'N', A])],
    output: [floatValueInfo('mean', [e, 'N', S]), floatValueInfo('logvar', [e, 'N', S])],
  }));
}

const PLANNER: PlannerSettingsInput = { population: 200, elites: 20, iterations: 5, horizon: 3, particles: 2, alpha: 0.1 };

async function writeDir(dir: string, o: { aStar?: number[]; sStar?: number[]; planner?: PlannerSettingsInput; dynamics?: Uint8Array; ensemble?: number; epsRisk?: number } = {}): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'critic.onnx'), criticOnnx(o.aStar ?? [0.5, -0.3], o.sStar ?? [0, 0]));
  await writeFile(join(dir, 'recovery.onnx'), recoveryBytes({ obsDim: S, actDim: A }));
  await writeFile(join(dir, 'dynamics.onnx'), o.dynamics ?? dynamicsOnnx());
  const card = {
    ...cardFor({ obsDim: S, actDim: A }),
    epsRisk: o.epsRisk ?? 0,
    recoveryMode: 'model-based',
    dynamics: { file: 'dynamics.onnx', inputs: { obs: 'obs', act: 'act' }, outputs: { mean: 'mean', logvar: 'logvar' }, ensemble: o.ensemble ?? E },
    planner: o.planner ?? PLANNER,
  };
  await writeFile(join(dir, 'model.json'), JSON.stringify(card));
  return dir;
}

const sessions = (): SessionFactory => new SessionFactory({ provider: 'cpu', requireCuda: false, threads: 1, spinning: false, logger: { warn: () => undefined } });

async function planner(dir: string): Promise<PlannerRiskModel> {
  const l = await loadModel({ modelDir: dir, fuse: 'auto', sessions: sessions() });
  t.ok(l.model instanceof PlannerRiskModel, 'model-based mode loads a planner');
  return l.model as PlannerRiskModel;
}

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'rshield-mb-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

void t.test('CEM finds the optimum of a toy cost, and warm starts keep it', async (t) => {
  const m = await planner(await writeDir(join(await tmp(), 'm')));
  t.teardown(() => m.close());
  const obs = Float32Array.from([0, 0]);
  const prop = Float32Array.from([-1, 1]);
  // From s = s* = 0, a* pulls the robot away from s* and ‖s − s*‖² pulls it back: the 3-step
  // optimum of Σ_t Q(ŝ_t, a_t) is a quadratic's minimiser (optimumH3).
  await m.risk(obs, prop);
  const a = Float32Array.from(await m.plan(obs, prop));
  const opt = optimumH3([0.5, -0.3]);
  t.ok(Math.abs(a[0]! - opt[0]!) < 0.08 && Math.abs(a[1]! - opt[1]!) < 0.08, `a_0 ${Array.from(a).map((v) => v.toFixed(3)).join(', ')} near the optimum ${opt.map((v) => v.toFixed(3)).join(', ')}`);
  t.ok(m.lastCost < 0.1 * 3 * 0.34 + 1e-3, `plan cost ${m.lastCost} is at most the cost of doing nothing`);
  // Consecutive plans (warm start) stay at the optimum.
  for (let i = 0; i < 3; i++) {
    await m.risk(obs, prop);
    const b = await m.plan(obs, prop);
    t.ok(Math.abs(b[0]! - opt[0]!) < 0.08, `warm-started plan ${i}: a_0[0] ${b[0]!.toFixed(3)}`);
  }
  t.same(m.stats(), { plans: 4, invalid: 0, warmStarts: 3 });
});

/** First action minimising Σ_{t<3} ‖a_t − a*‖² + ‖s_t‖² (s_0 = 0, s_{t+1} = s_t + a_t). */
function optimumH3(aStar: number[]): number[] {
  // Per axis: cost = Σ_t (a_t − c)² + a0² + (a0 + a1)²; the gradient is 0 at a2 = c,
  // a0 + 2·a1 = c, 3·a0 + a1 = c, so a0 = c/5.
  return aStar.map((c) => c / 5);
}

void t.test('the planner keeps every action inside the bounds', async (t) => {
  // a* outside the box: the best feasible a_0 is on the bound.
  const m = await planner(await writeDir(join(await tmp(), 'm'), { aStar: [1.5, -1.5], planner: { ...PLANNER, horizon: 1 } }));
  t.teardown(() => m.close());
  const obs = Float32Array.from([0, 0]);
  for (let i = 0; i < 3; i++) {
    await m.risk(obs, obs);
    const a = await m.plan(obs, Float32Array.from([0, 0]));
    t.ok(a[0]! <= 1 && a[0]! > 0.9, `a[0] = ${a[0]} at the upper bound`);
    t.ok(a[1]! >= -1 && a[1]! < -0.9, `a[1] = ${a[1]} at the lower bound`);
  }
});

void t.test('the task term pulls the plan toward the controller', async (t) => {
  // Q flat in a (a* = 0, s* = s): alone, any a_0 near 0; with λ = 5 the plan follows a_task.
  const m = await planner(await writeDir(join(await tmp(), 'm'), { aStar: [0, 0], planner: { ...PLANNER, horizon: 1, taskWeight: 5 } }));
  t.teardown(() => m.close());
  const obs = Float32Array.from([0, 0]);
  await m.risk(obs, obs);
  const a = await m.plan(obs, Float32Array.from([0.6, 0.6]));
  // cost 0.1·‖a‖² + 5·‖a − 0.6‖² → a = 0.6·5/5.1.
  t.ok(Math.abs(a[0]! - 0.588) < 0.05 && Math.abs(a[1]! - 0.588) < 0.05, `a_0 ${Array.from(a).join(', ')} near 0.588`);
});

void t.test('action repeat holds each planned action for several model steps', async (t) => {
  // H = 1, repeat 3: a is held for 3 steps, s_t = t·a, cost ∝ Σ_{t<3} (a − c)² + (t·a)² per axis
  // → 3(a − c)² + 5a², minimised at a = 3c/8; without repeat (H = 1) it would be a = c.
  const aStar = [0.5, -0.3];
  const m = await planner(await writeDir(join(await tmp(), 'm'), { aStar, planner: { ...PLANNER, horizon: 1, repeat: 3 } }));
  t.teardown(() => m.close());
  const obs = Float32Array.from([0, 0]);
  await m.risk(obs, obs);
  const a = await m.plan(obs, Float32Array.from([0, 0]));
  const want = aStar.map((c) => (3 * c) / 8);
  t.ok(Math.abs(a[0]! - want[0]!) < 0.05 && Math.abs(a[1]! - want[1]!) < 0.05, `a_0 ${Array.from(a).map((v) => v.toFixed(3)).join(', ')} near ${want.join(', ')}`);
  t.equal(m.repeat, 3);
});

void t.test("riskAt 'action-start' scores each held action once, where it starts", async (t) => {
  // H = 2, repeat 2: scored (s_0, a_0) and (s_2, a_1) with s_2 = 2·a_0, so per axis
  // (a_0 − c)² + (a_1 − c)² + 4·a_0² → a_0 = c/5, a_1 = c. Scoring every step instead gives
  // a_0 = 2c/29 (0.06 for c = 0.9), so the two are told apart.
  const aStar = [0.9, -0.9];
  const m = await planner(await writeDir(join(await tmp(), 'm'), { aStar, planner: { ...PLANNER, horizon: 2, repeat: 2, riskAt: 'action-start' } }));
  t.teardown(() => m.close());
  const obs = Float32Array.from([0, 0]);
  await m.risk(obs, obs);
  const a = await m.plan(obs, Float32Array.from([0, 0]));
  t.ok(Math.abs(a[0]! - 0.18) < 0.05 && Math.abs(a[1]! + 0.18) < 0.05, `a_0 ${Array.from(a).map((v) => v.toFixed(3)).join(', ')} near 0.18, -0.18`);
});

void t.test('the card: model-based needs dynamics and planner; bad planner settings are named', async (t) => {
  const base = cardFor({ obsDim: S, actDim: A });
  t.throws(() => parseModelCard({ ...base, recoveryMode: 'model-based' }, 'card'), /dynamics: is required by recoveryMode 'model-based'/);
  const dyn = { file: 'dynamics.onnx', inputs: { obs: 'obs', act: 'act' }, outputs: { mean: 'mean', logvar: 'logvar' }, ensemble: 5 };
  t.throws(() => parseModelCard({ ...base, recoveryMode: 'model-based', dynamics: dyn, planner: { ...PLANNER, particles: 7 } }, 'card'), /planner\.particles: 7 is not a multiple of the ensemble size 5/);
  t.throws(() => parseModelCard({ ...base, dynamics: dyn, planner: { ...PLANNER, particles: 5, elites: 500 } }, 'card'), /planner\.elites: 500 is more than the population 200/);
  t.throws(() => parseModelCard({ ...base, dynamics: dyn, planner: { ...PLANNER, particles: 5, goal: { dims: [2], target: [0], weight: 1 } } }, 'card'), /planner\.goal\.dims\[0\]: 2 is not below obsDim 2/);
});

void t.test('a dynamics model that does not match the card, or produces NaN, is refused at load', async (t) => {
  const root = await tmp();
  await t.rejects(Shield.load({ modelDir: await writeDir(join(root, 'e'), { dynamics: dynamicsOnnx({ ensemble: 3 }) }), inference: 'in-thread' }), {
    code: 'E_MODEL',
    message: /dynamics \(dynamics\.onnx\) input 'obs' has 3 ensemble members, card says dynamics\.ensemble 2/,
  });
  await t.rejects(Shield.load({ modelDir: await writeDir(join(root, 'c'), { dynamics: dynamicsOnnx({ obsCols: 3 }) }), inference: 'in-thread' }), {
    code: 'E_MODEL',
    message: /input 'obs' has 3 columns, card says obsDim 2/,
  });
  await t.rejects(Shield.load({ modelDir: await writeDir(join(root, 'n'), { dynamics: dynamicsOnnx({ nanAlways: true }) }), inference: 'in-thread' }), {
    code: 'E_MODEL',
    message: /dynamics\.onnx output 'mean' is NaN on check sample 0 of member 0/,
  });
  // The same through the inference worker (quarantine).
  await t.rejects(Shield.load({ modelDir: join(root, 'n') }), { code: 'E_MODEL', message: /output 'mean' is NaN/ });
  // A card without a dynamics model cannot be run model-based.
  const plain = join(root, 'p');
  await writeDir(plain);
  const card = JSON.parse(await (await import('node:fs/promises')).readFile(join(plain, 'model.json'), 'utf8')) as Record<string, unknown>;
  delete card.dynamics;
  delete card.planner;
  card.recoveryMode = 'policy';
  await writeFile(join(plain, 'model.json'), JSON.stringify(card));
  await t.rejects(Shield.load({ modelDir: plain, inference: 'in-thread', recoveryMode: 'model-based' }), { code: 'E_MODEL', message: /recovery mode 'model-based' needs a card with 'dynamics' and 'planner' parts/ });
});

void t.test('NaN at run time gives the fail-safe, never an exception', async (t) => {
  // Finite for |s| ≤ 10 (the load check passes), NaN beyond: every plan from s = (50, 0) is NaN.
  const dir = await writeDir(join(await tmp(), 'm'), { dynamics: dynamicsOnnx({ nanAbove: 10 }) });
  for (const inference of ['in-thread', 'worker'] as const) {
    const shield = await Shield.load({ modelDir: dir, inference, deadlineUs: 5_000_000 });
    const d = await shield.decide([50, 0], [1, 1]);
    t.equal(d.source, 'failsafe', `${inference}: fail-safe`);
    t.equal(d.failsafeReason, 'inference-error');
    t.same(Array.from(d.action), [0, 0]);
    t.same(shield.plannerStats(), { plans: 1, invalid: 1, warmStarts: 0 }, `${inference}: the plan is counted invalid`);
    // A state where the model is finite plans normally.
    const ok = await shield.decide([0, 0], [1, 1]);
    t.equal(ok.source, 'recovery', `${inference}: plans again once the rollout is finite (${ok.failsafeReason})`);
    await shield.close();
  }
});

void t.test('planning runs in the inference worker; a plan past the deadline is the counted fail-safe', async (t) => {
  // A big population makes each plan take milliseconds; the deadline is far below that.
  const dir = await writeDir(join(await tmp(), 'm'), { planner: { population: 20000, elites: 20, iterations: 5, horizon: 10, particles: 2, alpha: 0.1 } });
  const shield = await Shield.load({ modelDir: dir, deadlineUs: 2000, stuckAfterMs: 60_000 });
  t.teardown(() => shield.close());
  const t0 = performance.now();
  const d = await shield.decide([0, 0], [1, 1]);
  const waited = performance.now() - t0;
  t.equal(d.source, 'failsafe');
  t.equal(d.failsafeReason, 'deadline');
  t.ok(waited < 50, `the tick waited ${waited.toFixed(1)} ms, not the whole plan`);
  t.equal(shield.stats().failsafesByReason.deadline, 1);
  // While the worker still plans, the next tick is the fail-safe at once (busy), not a wait.
  const next = await shield.decide([0, 0], [1, 1]);
  t.equal(next.source, 'failsafe');
  t.ok((shield.watchdogStats()?.late ?? 0) >= 1, 'the late hand-off is counted');
});

void t.test('a worker plan within the deadline is the recovery action', async (t) => {
  const shield = await Shield.load({ modelDir: await writeDir(join(await tmp(), 'm')), deadlineUs: 5_000_000 });
  t.teardown(() => shield.close());
  t.equal(shield.recoveryMode, 'model-based');
  const d = await shield.decide([0, 0], [-1, 1]);
  t.equal(d.source, 'recovery');
  t.ok(Math.abs(d.action[0]! - 0.5 / 5) < 0.08, `planned a_0[0] ${d.action[0]}`);
  t.same(shield.plannerStats(), { plans: 1, invalid: 0, warmStarts: 0 });
});

void t.test('a new episode reaches the planner wherever it runs: its next plan starts afresh', async (t) => {
  const dir = await writeDir(join(await tmp(), 'm'));
  for (const inference of ['in-thread', 'worker'] as const) {
    const shield = await Shield.load({ modelDir: dir, inference, deadlineUs: 5_000_000 });
    for (let i = 0; i < 2; i++) t.equal((await shield.decide([0, 0], [-1, 1])).source, 'recovery');
    t.same(shield.plannerStats(), { plans: 2, invalid: 0, warmStarts: 1 }, `${inference}: the second plan continues the first`);
    shield.resetEpisode();
    t.equal((await shield.decide([0, 0], [-1, 1])).source, 'recovery');
    t.same(shield.plannerStats(), { plans: 3, invalid: 0, warmStarts: 1 }, `${inference}: after resetEpisode the plan is not warm-started`);
    await shield.close();
  }
});

void t.test('a plan is continued only from the tick after it (or within its held action), never across episodes', async (t) => {
  const m = await planner(await writeDir(join(await tmp(), 'm'), { planner: { ...PLANNER, repeat: 2 } }));
  t.teardown(() => m.close());
  const obs = Float32Array.from([0, 0]);
  const prop = Float32Array.from([0, 0]);
  // Whether each plan was warm-started: the change in the planner's count of warm starts.
  const warm = async (plan: boolean): Promise<boolean | undefined> => {
    const before = m.stats().warmStarts;
    await m.risk(obs, prop);
    if (!plan) return undefined;
    await m.plan(obs, prop);
    return m.stats().warmStarts > before;
  };
  t.equal(await warm(true), false, 'the first plan starts from the middle of the box');
  t.equal(await warm(true), true, 'the next tick continues it');
  await warm(false);
  t.equal(await warm(true), true, 'two ticks later, still within the held action (repeat 2)');
  await warm(false);
  await warm(false);
  t.equal(await warm(true), false, 'after task ticks in between, a fresh plan');
  await warm(true);
  m.resetEpisode();
  t.equal(await warm(true), false, 'a new episode drops the warm start');
});
