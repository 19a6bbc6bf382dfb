import t from 'tap';
import { createController, createEnv, generateOfflineData, prepareRobot } from '../../../src/envs/index.js';
import { TARGET_BOUNDS, toppled } from '../../../src/envs/mujoco/extraction/extraction-env.js';

await prepareRobot('object-extraction');

const quat = (axis: 'x' | 'y' | 'z', deg: number): [number, number, number, number] => {
  const h = (deg * Math.PI) / 360;
  return [Math.cos(h), axis === 'x' ? Math.sin(h) : 0, axis === 'y' ? Math.sin(h) : 0, axis === 'z' ? Math.sin(h) : 0];
};

void t.test('topple is |roll| or |pitch| above 15°; yaw alone never topples', (t) => {
  t.equal(toppled(...quat('x', 14.9)), false);
  t.equal(toppled(...quat('x', 15.1)), true);
  t.equal(toppled(...quat('y', -15.1)), true);
  t.equal(toppled(...quat('y', 14.9)), false);
  t.equal(toppled(...quat('z', 90)), false, 'a block turned about its vertical axis stands');
  t.equal(toppled(Number.NaN, 0, 0, 0), true, 'a NaN orientation counts as toppled (reference)');
  t.end();
});

void t.test('the expert lifts the red block within the horizon without toppling anything', (t) => {
  for (const seed of [1, 2, 3, 4]) {
    const env = createEnv('object-extraction', { seed });
    const ctrl = createController('object-extraction');
    let obs = env.reset();
    const z0 = obs[15] as number;
    let steps = 0;
    let last = { success: false, violation: false, done: false };
    while (!last.done) {
      const r = env.step(ctrl.act(obs));
      obs = r.obs;
      last = r;
      steps++;
      t.equal(r.reward, r.success ? 0 : -1);
    }
    t.ok(last.success && !last.violation, `seed ${seed}: lifted in ${steps} steps`);
    t.ok((obs[15] as number) - z0 >= 0.03, 'red block 3 cm up');
    t.ok(steps <= 25);
    env.close?.();
  }
  t.end();
});

/** Drives the gripper beside block 0 at mid height, then sweeps it through the row in −y. */
function sweep(robot: string, maxMove: number): { steps: number; violation: boolean; done: boolean } {
  const env = createEnv(robot, { seed: 3 });
  let o = env.reset();
  const [bx, by] = [o[6] as number, o[7] as number];
  const c = (v: number): number => Math.max(-maxMove, Math.min(maxMove, v));
  try {
    for (let k = 1; ; k++) {
      const [gx, gy, gz] = [o[0] as number, o[1] as number, o[2] as number];
      const a = Math.abs(gx - bx) > 0.004 ? [c(bx - gx), c(by + 0.11 - gy), 0, -0.1] : gz > 0.2 ? [0, c(by + 0.11 - gy), c(0.19 - gz), -0.1] : [0, -maxMove, 0, -0.1];
      const r = env.step(a);
      o = r.obs;
      if (r.done) return { steps: k, violation: r.violation, done: r.done };
    }
  } finally {
    env.close?.();
  }
}

void t.test('sweeping through the row knocks a block over: a violation that ends the episode', (t) => {
  const r = sweep('object-extraction', 0.02);
  t.ok(r.violation, `toppled after ${r.steps} steps`);
  t.ok(r.steps < 25);
  t.end();
});

void t.test('a gripper that holds still: the horizon ends the episode (static); the distractor hits it (dynamic)', (t) => {
  for (const [robot, violates] of [
    ['object-extraction', false],
    ['object-extraction-dynamic', true],
  ] as const) {
    const env = createEnv(robot, { seed: 3 });
    env.reset();
    let steps = 0;
    let r = env.step([0, 0, 0, -0.1]);
    for (steps = 1; !r.done; steps++) r = env.step([0, 0, 0, -0.1]);
    t.equal(r.violation, violates, `${robot}: done after ${steps} steps, violation ${r.violation}`);
    if (!violates) t.equal(steps, 25, 'the horizon');
    else t.ok(steps <= 15, 'while the distractor moves');
    env.close?.();
  }
  t.end();
});

void t.test('dynamic variant: 33-D state, the distractor moves +0.03 m in x for 15 steps then stops', (t) => {
  const env = createEnv('object-extraction-dynamic', { seed: 9 });
  t.equal(env.spec.obsDim, 33);
  t.same(Array.from(env.spec.actHigh), [0.03, 0.03, 0.03, 0.1].map(Math.fround));
  let o = env.reset();
  const x0 = o[27] as number;
  // Our gripper goes up and away so that nothing touches the distractor.
  const xs: number[] = [];
  for (let k = 0; k < 20; k++) {
    const r = env.step([0, 0.03, 0.03, -0.1]);
    o = r.obs;
    xs.push(o[27] as number);
    t.notOk(r.violation, `step ${k + 1}`);
  }
  t.ok((xs[14] as number) - x0 > 0.3, `moved ${((xs[14] as number) - x0).toFixed(3)} m in 15 steps`);
  t.ok(Math.abs((xs[19] as number) - (xs[16] as number)) < 0.005, 'then (nearly) still');
  env.close?.();
  t.end();
});

void t.test('D_offline: noisy-expert episodes of ≤ 25 steps, some toppling, reproducible', (t) => {
  for (const robot of ['object-extraction', 'object-extraction-dynamic']) {
    const gen = () => Array.from(generateOfflineData(robot, { seed: 5, transitions: 600 }));
    const a = gen();
    t.equal(a.length, 600);
    const viol = a.filter((x) => x.cost === 1);
    t.ok(viol.length >= 1 && viol.length < 120, `${robot}: ${viol.length} of 600 violate`);
    t.ok(viol.every((x) => x.done), 'a violation ends its episode');
    t.ok(a.every((x) => x.step < 25));
    const gripper = a.map((x) => [x.nextObs[0], x.nextObs[1], x.nextObs[2]] as number[]);
    const b = TARGET_BOUNDS;
    t.ok(gripper.every(([x, y, z]) => x! > b.x[0] - 0.02 && x! < b.x[1] + 0.02 && y! > b.y[0] - 0.02 && y! < b.y[1] + 0.02 && z! > b.z[0] - 0.03), 'the palm stays in the target box');
    t.same(gen().map((x) => Array.from(x.nextObs)), a.map((x) => Array.from(x.nextObs)), 'same seed, same data');
  }
  t.end();
});
