import t from 'tap';
import { RShieldError } from '../../src/core/errors.js';
import {
  createController,
  createEnv,
  failsafeAction,
  generateOfflineData,
  generatorInfo,
  prepareRobot,
  robotNames,
} from '../../src/envs/index.js';

for (const name of robotNames) await prepareRobot(name);

const ALL = 'nav1, nav2, maze, maze-mujoco, object-extraction, object-extraction-dynamic, halfcheetah-disabled, ant-disabled, cartpole-length, dvrk-reacher, image-maze, image-maze-mujoco, dvrk-reacher-image';

void t.test('the thirteen robots are registered with consistent specs', (t) => {
  t.same([...robotNames], ALL.split(', '));
  for (const name of robotNames) {
    const env = createEnv(name, { seed: 1 });
    t.equal(env.spec.name, name);
    t.equal(env.spec.actLow.length, env.spec.actDim);
    t.equal(env.spec.obsNames.length, env.spec.obsDim);
    const obs = env.reset();
    t.ok(obs instanceof Float32Array, `${name} observations are Float32Array`);
    t.equal(obs.length, env.spec.obsDim);
    const act = createController(name, { seed: 1 }).act(obs);
    t.equal(act.length, env.spec.actDim, `${name} controller action length`);
    t.same(Array.from(failsafeAction(name)), new Array(env.spec.actDim).fill(0), `${name} fail-safe holds`);
    t.ok(generatorInfo(name).description.length > 20);
  }
  t.end();
});

void t.test('unknown robot names list the known ones', (t) => {
  for (const call of [
    () => createEnv('nav3'),
    () => createController('nav3'),
    () => generateOfflineData('nav3', { seed: 1, transitions: 10 }),
    () => failsafeAction('nav3'),
  ]) {
    t.throws(call, { code: 'E_UNKNOWN_ROBOT', message: `unknown robot 'nav3' (known: ${ALL})` }, 'nav3');
  }
  // Names of Object.prototype members are not robots either.
  t.throws(() => createEnv('toString'), { code: 'E_UNKNOWN_ROBOT' });
  t.end();
});

void t.test('bad actions name the index and value; nothing moves', (t) => {
  for (const name of robotNames) {
    const env = createEnv(name, { seed: 3 });
    const obs = env.reset();
    const n = env.spec.actDim;
    t.throws(() => env.step(new Float32Array(n + 1)), {
      code: 'E_BAD_ACTION',
      message: `${name}: action has ${n + 1} values, expected ${n}`,
    });
    const nan = new Array<number>(n).fill(0);
    nan[n - 1] = Number.NaN;
    t.throws(() => env.step(nan), { code: 'E_BAD_ACTION', message: `${name}: action[${n - 1}] is NaN, expected a finite number` });
    const inf = new Array<number>(n).fill(0);
    inf[0] = -Infinity;
    const err = t.throws(() => env.step(inf)) as RShieldError;
    t.match(err.message, /action\[0\] is -Infinity/);
    t.same(err.context, { robot: name, index: 0, value: -Infinity });
    // A rejected action did not advance the robot: a fresh env with the same seed agrees.
    const twin = createEnv(name, { seed: 3 });
    t.same(Array.from(twin.reset()), Array.from(obs));
    t.same(Array.from(env.step(new Float32Array(n)).obs), Array.from(twin.step(new Float32Array(n)).obs), `${name} unchanged`);
  }
  t.end();
});

void t.test('actions are clipped to the bounds', (t) => {
  for (const name of robotNames) {
    const a = createEnv(name, { seed: 9 });
    const b = createEnv(name, { seed: 9 });
    a.reset();
    b.reset();
    const huge = Array.from(a.spec.actHigh, (h, i) => (i % 2 === 0 ? 1000 * h : -1000 * h));
    const edge = Array.from(a.spec.actHigh, (h, i) => (i % 2 === 0 ? h : (a.spec.actLow[i] as number)));
    for (let k = 0; k < 3; k++) {
      t.same(Array.from(a.step(huge).obs), Array.from(b.step(edge).obs), `${name} step ${k}`);
    }
  }
  t.end();
});

void t.test('same seed, same trajectory; another seed, another one', (t) => {
  for (const name of robotNames) {
    const run = (seed: number): number[] => {
      const env = createEnv(name, { seed });
      const ctrl = createController(name, { seed });
      const out: number[] = [];
      let obs = env.reset();
      for (let k = 0; k < 30; k++) {
        const r = env.step(ctrl.act(obs));
        out.push(...r.obs, r.reward);
        obs = r.done ? env.reset() : r.obs;
      }
      return out;
    };
    t.same(run(5), run(5), `${name} reproducible`);
    t.notSame(run(5), run(6), `${name} seed matters`);
    // reset(seed) restarts the same episode stream as a fresh env with that seed.
    const env = createEnv(name, { seed: 99 });
    env.reset();
    env.step(failsafeAction(name));
    t.same(Array.from(env.reset(5)), Array.from(createEnv(name, { seed: 5 }).reset()), `${name} reset(seed)`);
  }
  t.end();
});

void t.test('unknown or malformed options are configuration errors', (t) => {
  t.throws(() => createEnv('cartpole-length', { lenght: 0.5 }), {
    code: 'E_CONFIG',
    message: "cartpole-length: unknown option 'lenght' (known: seed, length, randomizeLength)",
  });
  t.throws(() => createEnv('nav1', { B: [1, 2, 3] }), { code: 'E_CONFIG', message: /option 'B' is \[1, 2, 3\], expected a list of 2 or 4/ });
  t.throws(() => createEnv('maze', { mode: 'x' }), { code: 'E_CONFIG', message: "maze: option 'mode' is 'x', expected one of e, m, h" });
  t.throws(() => createEnv('nav2', { seed: 1.5 }), { code: 'E_CONFIG' });
  t.throws(() => generateOfflineData('nav1', { seed: 1, transitions: -1 }), { code: 'E_USAGE' });
  t.end();
});
