import t from 'tap';
import { createEnv, registerTaskFamily, taskFamily, taskFamilyNames } from '../../src/envs/index.js';

void t.test('built-in families: deterministic per (seed, task), in the reference ranges', async (t) => {
  t.same(taskFamilyNames(), ['nav1', 'nav2', 'cartpole-length', 'dvrk-reacher-weak-axis']);
  for (const name of ['nav1', 'nav2']) {
    const f = taskFamily(name);
    const bs = Array.from({ length: 20 }, (_, i) => f.train(3, i).B as number[]);
    t.ok(bs.every((b) => b.length === 2 && b.every((x) => x >= 0.5 && x <= 1.5)), `${name}: B = diag(U(0.5, 1.5))`);
    t.equal(new Set(bs.map((b) => b.join())).size, 20, `${name}: every task has its own B`);
    t.same(f.train(3, 7), f.train(3, 7), 'same seed and task, same B');
    t.notSame(f.train(4, 7), f.train(3, 7), 'another seed, another B');
    t.notSame(f.test(3), f.train(3, 0), 'the test robot draws its own B');
  }
  const cp = taskFamily('cartpole-length');
  const lengths = Array.from({ length: 20 }, (_, i) => cp.train(1, i).length as number);
  t.ok(lengths.every((l) => l >= 0.4 && l <= 0.8), 'pole lengths U(0.4, 0.8) for training');
  t.same(cp.test(1), { length: 1.0 }, 'the test pole is 1.0 m');
  const dv = taskFamily('dvrk-reacher-weak-axis');
  for (let i = 0; i < 10; i++) {
    const gain = dv.train(2, i).gain as number[];
    t.equal(gain.filter((g) => g < 0.8).length, 1, `task ${i} has exactly one weakened axis: ${gain.join(', ')}`);
  }
});

void t.test('a family\'s parameters build its robot, and the dynamics follow them', async (t) => {
  const f = taskFamily('nav1');
  const step = (opts: Record<string, unknown>): number[] => {
    const env = createEnv(f.robot, { ...opts, seed: 5 });
    env.reset();
    return Array.from(env.step([1, 1]).obs);
  };
  const p = f.train(0, 0);
  t.same(step(p), step(p), 'seeded: the same robot moves the same way');
  t.notSame(step(p), step(f.train(0, 1)), 'another task moves differently under the same action');
  const cp = taskFamily('cartpole-length');
  for (const opts of [cp.train(0, 0), cp.test(0)]) t.equal((createEnv('cartpole-length', opts) as unknown as { length: number }).length, opts.length);
  const dv = taskFamily('dvrk-reacher-weak-axis');
  const env = createEnv('dvrk-reacher', { ...dv.test(0), seed: 1, noise: 0, backlash: 0 });
  const before = env.reset();
  const after = env.step([0.004, 0.004, 0.004]).obs;
  const moved = [0, 1, 2].map((k) => Number(((after[k]! - before[k]!) / 0.004).toFixed(2)));
  t.same(moved, [0.5, 1.25, 1.25], 'the test arm: weak x axis, tightened y and z cables');
});

void t.test('families: unknown names list the known ones; a name is registered once', async (t) => {
  t.throws(() => taskFamily('halfcheetah-disabled'), /unknown task family 'halfcheetah-disabled' \(known: nav1, nav2, cartpole-length, dvrk-reacher-weak-axis\)/);
  const extra = { name: 'nav1-wide', robot: 'nav1', description: 'test', train: () => ({ B: [2, 2] }), test: () => ({ B: [3, 3] }) };
  registerTaskFamily(extra);
  t.equal(taskFamily('nav1-wide'), extra);
  t.throws(() => registerTaskFamily(extra), /task family 'nav1-wide' is already registered/);
});
