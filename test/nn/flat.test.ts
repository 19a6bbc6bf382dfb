// Flat parameter buffers: Adam and Polyak update all parameters of an optimizer as one vector.
// The result must equal the per-tensor update bit for bit, and parameters shared between
// programs (a policy step reading the critic another program trains) must stay coherent.
import t from 'tap';
import { Rng } from '../../src/core/rng.js';
import { GraphBuilder, ParamSet, TrainingProgram, adam, gaussianHead, polyak, sgd, twinCritic, type Param, type Tensor } from '../../src/nn/index.js';

const B = 16;

function feedsFor(seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const f = (n: number, draw: () => number): Float32Array => Float32Array.from({ length: n }, draw);
  return {
    obs: f(B * 4, () => rng.uniform(-1, 1)),
    act: f(B * 3, () => rng.uniform(-1, 1)),
    cost: f(B, () => (rng.next() < 0.3 ? 1 : 0)),
    next_obs: f(B * 4, () => rng.uniform(-1, 1)),
    next_act: f(B * 3, () => rng.uniform(-1, 1)),
  };
}

/** The TD step of a small twin critic with a target net; `update` adds the optimizer and Polyak. */
function criticStep(update: (g: GraphBuilder, p: ParamSet, target: ParamSet, loss: Tensor) => void): { g: GraphBuilder; params: ParamSet; target: ParamSet } {
  const params = ParamSet.create({ rng: 5 });
  const g = new GraphBuilder('critic_step');
  const q = twinCritic(g, params, g.input('obs', [B, 4]), g.input('act', [B, 3]), { hidden: [16, 16] });
  const target = params.copy('target');
  const qn = twinCritic(g, target, g.input('next_obs', [B, 4]), g.input('next_act', [B, 3]), { hidden: [16, 16] });
  const y = g.add(g.input('cost', [B, 1]), g.mul(qn.max, 0.9));
  const loss = g.add(g.mean(g.square(g.sub(q.q1, y))), g.mean(g.square(g.sub(q.q2, y))));
  g.output('loss', loss);
  update(g, params, target, loss);
  return { g, params, target };
}

/** Adam and Polyak written per parameter tensor with the same arithmetic (the engine before flat buffers). */
function perTensor(g: GraphBuilder, p: ParamSet, target: ParamSet, loss: Tensor): void {
  const [lr, b1, b2, eps, tau] = [3e-3, 0.9, 0.999, 1e-8, 0.05];
  const ps = p.trainable();
  const grads = g.gradients(loss, ps);
  const step = g.state('t', []);
  const t1 = g.add(step, 1);
  g.update(step, t1);
  const c = g.sqrt(g.div(1 - b2, g.sub(1, g.pow(b2, t1))));
  const a = g.div(g.div(lr * (1 - b1), g.sub(1, g.pow(b1, t1))), c);
  const epsC = g.div(eps, c);
  ps.forEach((param: Param, i) => {
    const d = grads[i]!;
    const m = g.state(`m/${param.name}`, param.shape);
    const v = g.state(`v/${param.name}`, param.shape);
    const m1 = g.add(g.mul(m, b1), d);
    const v1 = g.add(g.mul(v, b2), g.square(d));
    g.update(m, m1);
    g.update(v, v1);
    g.update(param, g.sub(g.use(param), g.mul(g.div(m1, g.add(g.sqrt(v1), epsC)), a)));
  });
  for (const tp of target.list()) {
    const sp = p.list().find((x) => p.relative(x) === target.relative(tp))!;
    const old = g.use(tp);
    g.update(tp, g.add(old, g.mul(g.sub(g.latest(sp), old), tau)));
  }
}

void t.test('flat Adam and Polyak equal the per-tensor update bit for bit', async (t) => {
  const flat = criticStep((g, p, target, loss) => {
    adam(g, p, g.gradients(loss, p.trainable()), { lr: 3e-3 });
    polyak(g, target, p, 0.05);
  });
  const ref = criticStep(perTensor);
  t.ok(flat.g.inputs.has('adam.params') && flat.g.inputs.has('target.params'), 'parameters are two flat inputs');
  const w = flat.params.list().find((p) => p.name === 'q1/l0/w')!;
  t.equal(flat.g.viewOf(w)?.flat.name, 'adam.params', 'a parameter tensor is a view of its flat input');
  t.notOk(flat.g.updates.has(w.name), 'only the flat input is updated, not its members');
  t.throws(() => flat.g.update(w, flat.g.use(w)), /part of flat input adam\.params/, 'a flat member cannot be updated on its own');
  const a = await TrainingProgram.compile(flat.g);
  const b = await TrainingProgram.compile(ref.g);
  const initial = flat.params.snapshot();
  const feeds = feedsFor(6);
  for (let i = 0; i < 8; i++) t.equal((await a.step(feeds)).loss, (await b.step(feeds)).loss, `loss of step ${i}`);
  const differing = [...flat.params.list(), ...flat.target.list()].filter((p, i) => {
    const q = [...ref.params.list(), ...ref.target.list()][i]!;
    return p.value.some((x, k) => x !== q.value[k]);
  });
  t.same(
    differing.map((p) => p.name),
    [],
    'every parameter and target parameter is identical',
  );
  t.ok(flat.params.list().every((p) => p.value.some((x, k) => x !== initial[p.name]![k])), 'every param moved');
});

void t.test('a policy step reads the critic that another program trains, and leaves it alone', async (t) => {
  const critic = ParamSet.create({ rng: 7 });
  const policy = ParamSet.create({ rng: 8 });
  const { g: cg } = (() => {
    const g = new GraphBuilder('critic_step');
    const q = twinCritic(g, critic, g.input('obs', [B, 4]), g.input('act', [B, 3]), { hidden: [16, 16] });
    const loss = g.mean(g.square(g.sub(q.q1, g.input('cost', [B, 1]))));
    g.output('loss', loss);
    adam(g, critic, g.gradients(loss, critic.trainable()), { lr: 1e-2, name: 'critic_adam' });
    return { g };
  })();
  // Recovery style: minimise max(Q1, Q2)(s, π(s)); critic params are read-only inputs here.
  const policyGraph = (train: boolean): GraphBuilder => {
    const g = new GraphBuilder(train ? 'recovery_step' : 'recovery_eval');
    const obs = g.input('obs', [B, 4]);
    const pol = gaussianHead(g, policy, obs, { actDim: 3, hidden: [16], noise: g.noise('eps', [B, 3]) });
    const loss = g.mean(twinCritic(g, critic, obs, pol.action!, { hidden: [16, 16] }).max);
    g.output('loss', loss);
    if (train) adam(g, policy, g.gradients(loss, policy.trainable()), { lr: 1e-2, name: 'recovery_adam' });
    return g;
  };
  const criticProg = await TrainingProgram.compile(cg);
  const policyProg = await TrainingProgram.compile(policyGraph(true), { rng: 9 });
  const evalProg = await TrainingProgram.compile(policyGraph(false), { rng: 9 });
  t.ok(policyGraph(true).inputs.has('q1/l0/w'), 'critic params stay per-tensor inputs of the policy step');

  const feeds = feedsFor(10);
  const policyBefore = policy.snapshot();
  for (let i = 0; i < 3; i++) {
    await criticProg.step(feeds);
    const criticNow = critic.snapshot();
    // Same noise draws (same seed, same number of steps): the losses match only if both read
    // the critic's current values.
    const expected = (await evalProg.step({ obs: feeds.obs! })).loss!;
    const got = (await policyProg.step({ obs: feeds.obs! })).loss!;
    t.equal(got, expected, `policy step ${i} sees the critic after critic step ${i}`);
    t.same(critic.snapshot(), criticNow, 'the policy step does not change the critic');
  }
  const moved = Object.entries(policy.snapshot()).filter(([name, v]) => v.some((x, k) => x !== policyBefore[name]![k]));
  t.ok(moved.length > 0, 'the policy step updates the policy');
});

void t.test('two programs updating the same params hand the values over', async (t) => {
  // SGD on Σ(w − a)² then on Σ(w − b)², alternating; float64 so the reference is exact.
  const p = ParamSet.create({ dtype: 'float64' });
  const w = p.get('w', [2], { kind: 'const', value: 0 });
  const prog = async (goal: number[], name: string): Promise<TrainingProgram> => {
    const g = new GraphBuilder(name, { dtype: 'float64' });
    const loss = g.reduceSum(g.square(g.sub(g.use(w), g.const(goal, [2]))));
    g.output('loss', loss);
    sgd(g, p, g.gradients(loss, p.trainable()), { lr: 0.25 });
    return TrainingProgram.compile(g);
  };
  const [pa, pb] = [await prog([1, 2], 'a'), await prog([-3, 4], 'b')];
  const ref = [0, 0];
  const step = (goal: number[]): void => ref.forEach((x, i) => (ref[i] = x - 0.25 * 2 * (x - goal[i]!)));
  for (let i = 0; i < 3; i++) {
    await pa.step();
    step([1, 2]);
    await pb.step();
    step([-3, 4]);
  }
  t.same(Array.from(w.value), ref, `w follows both programs: ${ref.join(', ')}`);
  p.load({ w: [10, 10] });
  await pa.step();
  t.same(Array.from(w.value), [5.5, 6], 'ParamSet.load reaches the next step of either program');
});

void t.test('checkpoints hold the flat vectors; load restores params and moments', async (t) => {
  const { g, params } = criticStep((g, p, target, loss) => {
    adam(g, p, g.gradients(loss, p.trainable()), { lr: 3e-3 });
    polyak(g, target, p, 0.05);
  });
  const prog = await TrainingProgram.compile(g);
  const feeds = feedsFor(11);
  for (let i = 0; i < 2; i++) await prog.step(feeds);
  const state = prog.state();
  t.same(Object.keys(state).sort(), ['adam.m', 'adam.params', 'adam.t', 'adam.v', 'target.params']);
  t.equal(state['adam.params']!.length, params.count());
  const after: number[] = [];
  for (let i = 0; i < 3; i++) after.push((await prog.step(feeds)).loss!);
  prog.load(state); // params included: no ParamSet.load needed
  const again: number[] = [];
  for (let i = 0; i < 3; i++) again.push((await prog.step(feeds)).loss!);
  t.same(again, after);
  t.throws(() => prog.load({ ...state, 'adam.params': new Float32Array(3) }), { code: 'E_MODEL', message: `adam.params has 3 values in the checkpoint, program expects ${params.count()}` });
});

void t.test('a parameter belongs to one flat input', (t) => {
  const p = ParamSet.create();
  const g = new GraphBuilder('twice');
  const y = g.reduceSum(g.use(p.get('w', [2], { kind: 'const', value: 1 })));
  adam(g, p, g.gradients(y, p.trainable()), { lr: 0.1 });
  t.throws(() => sgd(g, p, g.gradients(y, p.trainable()), { lr: 0.1 }), { code: 'E_GRAPH', message: 'flat: param w is already part of adam.params' });
  t.end();
});
