import t from 'tap';
import { DecisionRule, clampInto } from '../../src/core/decision-rule.js';

void t.test('recovery exactly when Q_risk > ε (ε itself is safe)', (t) => {
  const r = new DecisionRule({ epsRisk: 0.3, hysteresis: 0 });
  t.equal(r.choose(0.1), 'task');
  t.equal(r.choose(0.3), 'task');
  t.equal(r.choose(0.300001), 'recovery');
  t.equal(r.choose(0.29), 'task', 'without hysteresis it leaves recovery as soon as risk drops');
  t.end();
});

void t.test('hysteresis: stays in recovery until Q_risk < ε − h', (t) => {
  const r = new DecisionRule({ epsRisk: 0.5, hysteresis: 0.2 });
  t.equal(r.choose(0.45), 'task', 'below ε in task mode: task');
  t.equal(r.choose(0.6), 'recovery');
  t.equal(r.choose(0.45), 'recovery', 'between ε − h and ε: still recovery');
  t.equal(r.choose(0.3), 'recovery', 'exactly ε − h: still recovery');
  t.equal(r.choose(0.29), 'task');
  t.equal(r.choose(0.45), 'task', 'back in task mode, ε is the threshold again');
  r.choose(0.9);
  r.reset();
  t.equal(r.inRecovery, false);
  t.equal(r.choose(0.45), 'task', 'reset returns to task mode');
  t.end();
});

void t.test('bad settings are refused', (t) => {
  t.throws(() => new DecisionRule({ epsRisk: 1.5, hysteresis: 0 }), /epsRisk 1.5/);
  t.throws(() => new DecisionRule({ epsRisk: 0.2, hysteresis: 0.3 }), /hysteresis 0.3/);
  t.end();
});

void t.test('clampInto clamps each component to its own bounds', (t) => {
  const out = new Float32Array(3);
  clampInto(out, [2, -3, 0.25], Float32Array.from([-1, -2, 0]), Float32Array.from([1, 2, 0.5]));
  t.same([...out], [1, -2, 0.25]);
  t.end();
});
