import t from 'tap';
import { createController, createEnv, mazeContact, mazeGeometry } from '../../src/envs/index.js';

void t.test('walls, gaps and boundaries match the reference maze (tool radius 0.025)', (t) => {
  t.equal(mazeGeometry.toolRadius, 0.025);
  // Gap at x = -0.1 is y ∈ (-0.13, 0.22): the centre fits in (-0.105, 0.195).
  t.notOk(mazeContact(-0.1, 0.19));
  t.ok(mazeContact(-0.1, 0.2));
  t.notOk(mazeContact(-0.1, -0.1));
  t.ok(mazeContact(-0.1, -0.11));
  // Gap at x = +0.1 is y ∈ (0.03, 0.28): the centre fits in (0.055, 0.255).
  t.ok(mazeContact(0.1, 0.05));
  t.notOk(mazeContact(0.1, 0.06));
  t.ok(mazeContact(0.1, 0.26));
  // Walls are 0.01 thick: contact when the centre is within 0.005 + 0.025 of x = ±0.1.
  t.notOk(mazeContact(-0.069, 0.25));
  t.ok(mazeContact(-0.071, 0.25));
  // Boundary planes at ±0.3: contact when the centre reaches ±0.275.
  t.notOk(mazeContact(0.274, 0));
  t.ok(mazeContact(0.276, 0));
  t.ok(mazeContact(0, -0.276));
  t.end();
});

void t.test('hand-computed: pushing +x from a medium start stops against wall2B at x = 0.07', (t) => {
  const env = createEnv('maze', { seed: 7, mode: 'm' });
  const [x0, y0] = env.reset();
  t.ok((y0 as number) < 0.0, `start y ${y0} lies behind wall2B`);
  // Each step moves 0.255·0.1 = 0.0255 in x; the disc touches the wall face x = 0.095 when
  // its centre reaches 0.095 - 0.025 = 0.07.
  const expected = Math.ceil((0.07 - (x0 as number)) / 0.0255);
  let step = 0;
  let r;
  do {
    r = env.step([0.1, 0]);
    step++;
  } while (!r.done);
  t.ok(r.violation);
  t.equal(step, expected, `contact at step ${expected}`);
  t.ok(Math.abs((r.obs[0] as number) - 0.07) < 1e-6, `stopped touching the wall at x ${r.obs[0]}`);
  t.ok(Math.abs((r.obs[1] as number) - (y0 as number)) < 1e-6, 'y unchanged');
  // In contact the tool no longer moves, as in the reference.
  t.same(Array.from(env.step([-0.1, 0]).obs), Array.from(r.obs));
  t.end();
});

void t.test('the reference expert reaches the goal from hard starts', (t) => {
  const env = createEnv('maze', { seed: 1, mode: 'h' });
  const ctrl = createController('maze');
  let successes = 0;
  for (let ep = 0; ep < 50; ep++) {
    let obs = env.reset();
    for (;;) {
      const r = env.step(ctrl.act(obs));
      obs = r.obs;
      if (r.done) {
        if (r.success) successes++;
        break;
      }
    }
  }
  t.ok(successes >= 45, `${successes}/50 expert episodes succeed`);
  t.end();
});
