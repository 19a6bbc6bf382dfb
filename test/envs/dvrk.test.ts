import t from 'tap';
import { createController, createEnv, dvrkReacherGeometry as G, dvrkReacherViolation } from '../../src/envs/index.js';

void t.test('geometry: zone between the starts and the target, inside the workspace', (t) => {
  t.notOk(dvrkReacherViolation(G.target), 'target is free');
  for (const s of G.starts) t.notOk(dvrkReacherViolation(s), 'starts are free');
  const [cx, cy] = G.zone.center;
  t.ok(dvrkReacherViolation([cx, cy, -0.13]), 'zone centre violates');
  t.ok(dvrkReacherViolation([cx + G.zone.radius - 1e-6, cy, -0.13]));
  t.notOk(dvrkReacherViolation([cx + G.zone.radius + 1e-6, cy, -0.13]));
  t.notOk(dvrkReacherViolation([cx, cy, G.zone.z[1] + 0.001]), 'above the post is free');
  t.ok(dvrkReacherViolation([0.131, 0.07, -0.13]), 'leaving the workspace violates');
  t.ok(dvrkReacherViolation([0.08, 0.07, -0.171]));
  // The zone sits between both starts and the target in x.
  for (const s of G.starts) t.ok(s[0] < cx && cx < G.target[0]);
  t.end();
});

void t.test('hand-computed: an ideal arm pushed +x leaves the workspace at x > 0.13', (t) => {
  const env = createEnv('dvrk-reacher', { seed: 3, start: 0, gain: [1, 1, 1], backlash: 0, noise: 0 });
  const [x0] = env.reset();
  const expected = Math.floor((0.13 - (x0 as number)) / 0.005) + 1;
  let step = 0;
  let r;
  do {
    r = env.step([0.005, 0, 0]);
    step++;
  } while (!r.done);
  t.ok(r.violation);
  t.equal(step, expected, `violation at step ${expected}`);
  t.end();
});

void t.test('hand-computed: over the zone centre, then sideways into the cylinder', (t) => {
  const env = createEnv('dvrk-reacher', { seed: 4, start: 0, gain: [1, 1, 1], backlash: 0, noise: 0 });
  const [x0, y0] = env.reset() as unknown as [number, number];
  // Six 5 mm steps in x bring the tip to x0 + 0.03 ≈ 0.075 (free: y is 14 mm from the axis).
  for (let k = 0; k < 6; k++) t.notOk(env.step([0.005, 0, 0]).violation);
  const x = x0 + 0.03;
  const dx = x - G.zone.center[0];
  const yEdge = G.zone.center[1] - Math.sqrt(G.zone.radius ** 2 - dx * dx);
  const expected = Math.floor((yEdge - y0) / 0.005) + 1;
  let step = 0;
  let r;
  do {
    r = env.step([0, 0.005, 0]);
    step++;
  } while (!r.done);
  t.ok(r.violation);
  t.equal(step, expected, `enters the cylinder at step ${expected}`);
  t.end();
});

void t.test('hidden gains, backlash and noise make the arm undershoot', (t) => {
  const env = createEnv('dvrk-reacher', { seed: 5 });
  let total = 0;
  for (let ep = 0; ep < 20; ep++) {
    const [x0] = env.reset();
    const [x1] = env.step([0.005, 0, 0]).obs;
    total += ((x1 as number) - (x0 as number)) / 0.005;
  }
  const mean = total / 20;
  t.ok(mean > 0.8 && mean < 1.0, `mean achieved/commanded ${mean.toFixed(3)} (gain U(0.8, 1.05) minus backlash)`);
  t.end();
});

void t.test('the straight-line controller hits the zone in 40–70% of episodes', (t) => {
  const env = createEnv('dvrk-reacher', { seed: 11 });
  const ctrl = createController('dvrk-reacher');
  let violations = 0;
  let successes = 0;
  const n = 200;
  for (let ep = 0; ep < n; ep++) {
    let obs = env.reset();
    for (;;) {
      const r = env.step(ctrl.act(obs));
      obs = r.obs;
      if (r.done) {
        if (r.violation) violations++;
        if (r.success) successes++;
        break;
      }
    }
  }
  t.ok(violations >= 0.4 * n && violations <= 0.7 * n, `${violations}/${n} violate`);
  t.equal(violations + successes, n, 'every other episode reaches the target');
  t.end();
});

void t.test('a safe path around the zone exists from both starts', (t) => {
  for (const start of [0, 1]) {
    const env = createEnv('dvrk-reacher', { seed: 12, start });
    const ctrl = createController('dvrk-reacher');
    let successes = 0;
    for (let ep = 0; ep < 20; ep++) {
      let obs = env.reset();
      // Detour: a waypoint 14 mm beside the axis on the start's side, then straight in.
      const side = start === 0 ? -1 : 1;
      const wp: [number, number, number] = [G.zone.center[0], G.zone.center[1] + side * 0.014, G.target[2]];
      let phase = 0;
      for (;;) {
        const d = Math.hypot((obs[0] as number) - wp[0], (obs[1] as number) - wp[1]);
        if (phase === 0 && d < 0.002) phase = 1;
        let a: Float32Array;
        if (phase === 0) {
          const v = [wp[0] - (obs[0] as number), (wp[1]) - (obs[1] as number), (wp[2]) - (obs[2] as number)];
          const m = Math.max(...v.map(Math.abs));
          a = Float32Array.from(v, (x) => (m > 0.005 ? (x * 0.005) / m : x));
        } else a = ctrl.act(obs);
        const r = env.step(a);
        obs = r.obs;
        if (r.done) {
          if (r.success) successes++;
          break;
        }
      }
    }
    t.equal(successes, 20, `start ${start}: detour succeeds`);
  }
  t.end();
});
