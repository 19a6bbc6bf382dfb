import t from 'tap';
import { cartpoleViolation, createController, createEnv } from '../../src/envs/index.js';

void t.test('violation is |θ| > π/2 or |x| ≥ 2.4', (t) => {
  t.notOk(cartpoleViolation(0, Math.PI / 2));
  t.ok(cartpoleViolation(0, Math.PI / 2 + 1e-9));
  t.ok(cartpoleViolation(0, -1.6));
  t.ok(cartpoleViolation(2.4, 0));
  t.ok(cartpoleViolation(-2.4, 0));
  t.notOk(cartpoleViolation(2.399, 0));
  const env = createEnv('cartpole-length');
  t.equal(env.spec.horizon, 200);
  t.same(Array.from(env.spec.actHigh), [3]);
  t.end();
});

void t.test('hand-computed: an unactuated 1 m pole falls when the linearised model predicts', (t) => {
  // Linearised about upright on a free cart (M 10.47 kg, rod m 8.04 kg, l 0.5 m, I = mL²/3,
  // hinge damping 1): θ̈ = m g l (M+m) / (I(M+m) − m²l²) θ − c θ̇ ≈ 21.8 θ − 0.55 θ̇, whose
  // roots are λ = 4.402 /s and μ = −4.952 /s. The growing mode's amplitude is
  // k = (θ̇0 − μ θ0) / (λ − μ); it reaches 0.5 rad after ln(0.5/|k|)/λ seconds, and the
  // nonlinear fall from 0.5 rad (θ̇ ≈ 2.2 rad/s) to π/2 takes ≈ 0.34 s more. Steps are 0.04 s.
  const lambda = 4.402;
  const mu = -4.952;
  for (const seed of [1, 2, 3]) {
    const env = createEnv('cartpole-length', { seed });
    const obs = env.reset();
    const th0 = obs[1] as number;
    const thd0 = obs[3] as number;
    t.ok(Math.abs(th0) <= 0.01 && Math.abs(thd0) <= 0.01, 'start within ±0.01');
    const k = (thd0 - mu * th0) / (lambda - mu);
    const predicted = (Math.log(0.5 / Math.abs(k)) / lambda + 0.34) / 0.04;
    let step = 0;
    let r;
    do {
      r = env.step([0]);
      step++;
    } while (!r.done);
    t.ok(r.violation, 'violation ends the episode');
    t.equal(Math.sign(r.obs[1] as number), Math.sign(k), 'falls the way the growing mode leans');
    t.ok(Math.abs(r.obs[1] as number) > Math.PI / 2 && Math.abs(r.obs[1] as number) < 2, `θ just past π/2 (${r.obs[1]})`);
    t.ok(Math.abs(step - predicted) <= 2, `seed ${seed}: fell at step ${step}, predicted ${predicted.toFixed(1)}`);
  }
  t.end();
});

void t.test('the rail: full force drives the cart past 2.4 m only if the pole stays up long enough', (t) => {
  // With the pole fixed upright, F = 300 N on M + m = 18.5 kg gives x = ½·16.2·t² = 2.4 m at
  // t ≈ 0.54 s (14 steps); the free pole swings backwards first (θ̈ ≈ −(3/2L)·a ≈ −24 rad/s²
  // reaches π/2 in ≈ 0.36 s), so the pole, not the rail, ends the episode, around step 9–12.
  const env = createEnv('cartpole-length', { seed: 1 });
  env.reset();
  let step = 0;
  let r;
  do {
    r = env.step([3]);
    step++;
  } while (!r.done);
  t.ok(r.violation);
  t.ok((r.obs[1] as number) < -Math.PI / 2, `pole fell backwards (θ ${r.obs[1]})`);
  t.ok(Math.abs(r.obs[0] as number) < 2.4, `cart still on the rail (x ${r.obs[0]})`);
  t.ok(step >= 8 && step <= 13, `ended at step ${step}`);
  t.end();
});

void t.test('randomizeLength draws U(0.4, 0.8) once per seed', (t) => {
  const a = createEnv('cartpole-length', { seed: 3, randomizeLength: true });
  const b = createEnv('cartpole-length', { seed: 4, randomizeLength: true });
  // A stationary cart with the pole upright earns reward exp(0) = 1 regardless of length,
  // so compare the fall times instead.
  const fall = (env: ReturnType<typeof createEnv>): number => {
    env.reset(1);
    let step = 0;
    while (!env.step([0]).done) step++;
    return step;
  };
  t.not(fall(a), fall(b));
  t.end();
});

void t.test('the LQR controller balances poles of 0.4–1 m for the whole horizon', (t) => {
  for (const length of [0.4, 0.6, 1.0]) {
    const env = createEnv('cartpole-length', { seed: 7, length });
    const ctrl = createController('cartpole-length');
    let obs = env.reset();
    let steps = 0;
    let r;
    do {
      r = env.step(ctrl.act(obs));
      obs = r.obs;
      steps++;
    } while (!r.done);
    t.equal(steps, 200, `${length} m: episode runs to the horizon`);
    t.notOk(r.violation, `${length} m: no violation`);
    if (length >= 0.6) t.ok(r.success, `${length} m: return > 160`);
  }
  t.end();
});
