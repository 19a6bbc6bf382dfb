import t from 'tap';
import { createController, createEnv, generateOfflineData, prepareRobot } from '../../../src/envs/index.js';
import { mazeGeometry } from '../../../src/envs/maze/geometry.js';
import { MazeMujocoEnv } from '../../../src/envs/mujoco/maze/maze-mujoco-env.js';

await prepareRobot('maze-mujoco');

function episode(seed: number): { obs: number[]; steps: number; violation: boolean; success: boolean } {
  const env = createEnv('maze-mujoco', { seed });
  const ctrl = createController('maze-mujoco');
  const obs: number[] = [];
  let o = env.reset();
  let steps = 0;
  try {
    for (;;) {
      const r = env.step(ctrl.act(o));
      obs.push(...r.obs);
      steps++;
      o = r.obs;
      if (r.done) return { obs, steps, violation: r.violation, success: r.success };
    }
  } finally {
    env.close?.();
  }
}

void t.test('same seed, same trajectory bit for bit; the expert reaches the goal through both gaps', (t) => {
  const a = episode(4);
  const b = episode(4);
  t.same(a.obs, b.obs, 'identical observations');
  t.ok(a.success && !a.violation, `success without contact in ${a.steps} steps`);
  t.ok(a.steps <= 100);
  t.notSame(episode(5).obs, a.obs, 'another seed, another start');
  t.end();
});

void t.test('C(s) is MuJoCo contact: hand-checked tool positions against the walls and the arena', (t) => {
  const env = new MazeMujocoEnv({ seed: 1 });
  const r = mazeGeometry.toolRadius;
  // wall2B spans x 0.095..0.105, y -0.37..0.03: the disc touches its face when x ≥ 0.07.
  t.equal(env.contactAt(0.0699, 0), false, '0.1 mm short of wall2B');
  t.equal(env.contactAt(0.0701, 0), true, '0.1 mm into wall2B');
  // The gap at x = 0.1 is y ∈ (0.03, 0.28): its middle is free, its edges are not.
  t.equal(env.contactAt(0.1, 0.155), false, 'middle of the second gap');
  t.equal(env.contactAt(0.1, 0.03 + r - 1e-4), true, 'in the gap, 0.1 mm too close to wall2B');
  // Rounded corner of wall1A at (-0.095, 0.22): a plain inflated box would call this contact.
  const d = (r + 1e-4) / Math.SQRT2;
  t.equal(env.contactAt(-0.095 + d, 0.22 - d), false, 'diagonal to the corner, 0.1 mm clear');
  t.equal(env.contactAt(-0.095 + d - 2e-4, 0.22 - d + 2e-4), true, 'diagonal to the corner, inside the radius');
  // Boundary planes at ±0.3.
  t.equal(env.contactAt(0.2749, 0.15), false);
  t.equal(env.contactAt(0.2751, 0.15), true);
  t.equal(env.contactAt(0.15, -0.2751), true);
  env.close();
  t.end();
});

void t.test('pushing into a wall ends the episode in contact and the tool stays put', (t) => {
  const env = new MazeMujocoEnv({ seed: 2, mode: 'm' });
  let o = env.reset();
  let steps = 0;
  let last = { violation: false, done: false };
  while (!last.done) {
    const r = env.step([0.1, -0.1]); // toward wall2B
    last = r;
    o = r.obs;
    steps++;
  }
  t.ok(last.violation, `contact after ${steps} steps at (${o[0]?.toFixed(3)}, ${o[1]?.toFixed(3)})`);
  const again = env.step([-0.1, 0.1]);
  t.same(Array.from(again.obs), Array.from(o), 'a tool in contact is not simulated');
  t.ok(again.violation);
  env.close();
  t.throws(() => env.step([0, 0]), { code: 'E_USAGE', message: /closed/ });
  t.end();
});

void t.test('D_offline: the reference mix of random and expert segments, with violations, reproducible', (t) => {
  const gen = (): { cost: number; step: number; obs: number[] }[] =>
    Array.from(generateOfflineData('maze-mujoco', { seed: 3, transitions: 400 }), (x) => ({ cost: x.cost, step: x.step, obs: Array.from(x.obs) }));
  const a = gen();
  t.equal(a.length, 400);
  const viol = a.filter((x) => x.cost === 1).length;
  t.ok(viol > 10 && viol < 300, `${viol} of 400 transitions violate`);
  t.ok(a.every((x) => x.step < 20), '20-step segments');
  t.same(gen(), a, 'same seed, same data');
  t.end();
});
