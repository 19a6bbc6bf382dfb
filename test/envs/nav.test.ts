import t from 'tap';
import { createController, createEnv, nav1Geometry, nav2Geometry, navInObstacle } from '../../src/envs/index.js';

void t.test('obstacles match the reference boxes, bounds inclusive', (t) => {
  // Nav1: corridor |y| < 5 closed at x <= -80 (reference §1.1).
  t.ok(navInObstacle(nav1Geometry, 0, 5), 'y = 5 is wall');
  t.notOk(navInObstacle(nav1Geometry, 0, 4.999));
  t.ok(navInObstacle(nav1Geometry, 0, -5));
  t.ok(navInObstacle(nav1Geometry, -80, 0), 'back wall at x = -80');
  t.notOk(navInObstacle(nav1Geometry, -79.99, 0));
  t.notOk(navInObstacle(nav1Geometry, 0, 10.01), 'walls are 5 thick');
  // Nav2: one block [-30, -20] × [-7.5, 7.5] (§1.2).
  t.ok(navInObstacle(nav2Geometry, -30, 7.5));
  t.ok(navInObstacle(nav2Geometry, -20, -7.5));
  t.notOk(navInObstacle(nav2Geometry, -19.99, 0));
  t.notOk(navInObstacle(nav2Geometry, -25, 7.51));
  t.end();
});

void t.test('nav1 hand-computed: pushing +y from the start hits the wall at y = 5', (t) => {
  const env = createEnv('nav1', { seed: 9 });
  const [, y0] = env.reset();
  // s_y advances by exactly 1 per step plus 0.05·N(0,1) noise; the wall is y >= 5.
  const expected = Math.ceil(5 - (y0 as number));
  const margin = Math.abs(5 - (y0 as number) - Math.round(5 - (y0 as number)));
  t.ok(margin > 0.35, `start y ${y0} is not within noise of a step boundary (margin ${margin.toFixed(2)})`);
  let step = 0;
  let r;
  do {
    r = env.step([0, 1]);
    step++;
  } while (!r.done);
  t.ok(r.violation, 'ended by the wall');
  t.equal(step, expected, `violation at step ${expected}`);
  // Frozen inside the obstacle (reference: s' = s).
  const stuck = Array.from(r.obs);
  t.same(Array.from(env.step([0, -1]).obs), stuck);
  t.end();
});

void t.test('B scales the action; randomizeB draws diag(U(0.5, 1.5)) per seed', (t) => {
  const move = (opts: Record<string, unknown>): [number, number] => {
    const env = createEnv('nav2', { seed: 2, ...opts });
    const [x0, y0] = env.reset();
    let obs: Float32Array = new Float32Array(2);
    for (let k = 0; k < 20; k++) obs = env.step([1, -1]).obs;
    return [((obs[0] as number) - (x0 as number)) / 20, ((obs[1] as number) - (y0 as number)) / 20];
  };
  const [dx, dy] = move({ B: [0.5, 1.5] });
  t.ok(Math.abs(dx - 0.5) < 0.03 && Math.abs(dy + 1.5) < 0.03, `per-step move (${dx}, ${dy})`);
  const [fx, fy] = move({ B: [0, 1, 1, 0] });
  t.ok(Math.abs(fx + 1) < 0.03 && Math.abs(fy - 1) < 0.03, 'full 2×2 B swaps the axes');
  const r1 = move({ randomizeB: true, seed: 10 });
  const r2 = move({ randomizeB: true, seed: 10 });
  const r3 = move({ randomizeB: true, seed: 11 });
  t.same(r1, r2);
  t.notSame(r1, r3);
  for (const v of [...r1, ...r3]) t.ok(Math.abs(v) > 0.45 && Math.abs(v) < 1.55, `gain ${v} in [0.5, 1.5]`);
  t.throws(() => createEnv('nav1', { B: [1, 1], randomizeB: true }), { code: 'E_CONFIG' });
  t.end();
});

void t.test('success at 4 units (reference code), 1 unit on request', (t) => {
  const run = (goalRadius?: number): { steps: number; dist: number } => {
    const env = createEnv('nav1', { seed: 1, goalRadius });
    const ctrl = createController('nav1');
    let obs = env.reset();
    for (let steps = 1; steps <= 100; steps++) {
      const before = Math.hypot(obs[0] as number, obs[1] as number);
      const r = env.step(ctrl.act(obs));
      if (r.done) {
        t.ok(r.success && !r.violation);
        return { steps, dist: before };
      }
      obs = r.obs;
    }
    return { steps: 101, dist: NaN };
  };
  const four = run();
  const one = run(1);
  t.ok(four.dist < 4 && four.dist > 3, `ends within 4 of the goal (${four.dist})`);
  t.ok(one.dist < 1, `goalRadius 1 ends within 1 (${one.dist})`);
  t.ok(one.steps > four.steps);
  t.end();
});

void t.test('the straight-line controller is safe in nav1 and drives into the nav2 block', (t) => {
  for (const [name, wantViolation] of [
    ['nav1', false],
    ['nav2', true],
  ] as const) {
    const env = createEnv(name, { seed: 3 });
    const ctrl = createController(name);
    let violations = 0;
    for (let ep = 0; ep < 10; ep++) {
      let obs = env.reset();
      for (;;) {
        const r = env.step(ctrl.act(obs));
        obs = r.obs;
        if (r.done) {
          if (r.violation) violations++;
          break;
        }
      }
    }
    t.equal(violations, wantViolation ? 10 : 0, `${name}: ${violations}/10 episodes violate`);
  }
  t.end();
});
