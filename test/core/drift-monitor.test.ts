import t from 'tap';
import { DriftMonitor } from '../../src/core/drift-monitor.js';

// A robot that violates on the 5th step of every episode: the true Q_risk k steps before the
// violation is γ^k (thesis eq. 3.1, violations end episodes).
function episodes(m: DriftMonitor, q: (stepsLeft: number) => number, n: number, ratedSafe: (stepsLeft: number) => boolean): void {
  for (let e = 0; e < n; e++) {
    for (let k = 4; k >= 0; k--) m.observe(q(k), ratedSafe(k), k === 0, k === 0);
  }
}

void t.test('a critic that fits the robot: TD error near zero, no missed violation, no drift', async (t) => {
  const m = new DriftMonitor({ gammaRisk: 0.8, window: 50 });
  episodes(m, (k) => 0.8 ** k, 40, (k) => 0.8 ** k <= 0.5);
  const s = m.snapshot();
  t.same([s.transitions, s.violations, s.missedViolations, s.suspected], [200, 40, 0, false]);
  t.ok(s.tdErrorRms !== null && s.tdErrorRms < 1e-6, `TD error RMS ${s.tdErrorRms}`);
});

void t.test('a critic that no longer fits: it rates the last step safe, violations are missed, drift is suspected', async (t) => {
  const m = new DriftMonitor({ gammaRisk: 0.8, window: 50 });
  episodes(m, () => 0.05, 40, () => true);
  const s = m.snapshot();
  t.equal(s.missedViolations, 40);
  t.ok(s.tdErrorRms !== null && s.tdErrorRms > 0.3, `TD error RMS ${s.tdErrorRms}`);
  t.equal(s.suspected, true);
  m.reset();
  t.same(m.snapshot(), { transitions: 0, violations: 0, missedViolations: 0, tdErrorRms: null, suspected: false }, 'a new model is judged afresh');
});

void t.test('the TD error alone raises drift once a window of targets is seen; fail-safe ticks break the chain', async (t) => {
  // Rated risky every time (the shield stepped in), so no violation is "missed", but Q_risk is far off.
  const m = new DriftMonitor({ gammaRisk: 0.8, window: 20, tdErrorLimit: 0.25 });
  for (let i = 0; i < 10; i++) m.observe(0.9, false, false, false);
  t.equal(m.snapshot().suspected, false, 'not before the window is full');
  for (let i = 0; i < 30; i++) m.observe(0.9, false, false, false);
  const s = m.snapshot();
  t.ok(s.tdErrorRms !== null && Math.abs(s.tdErrorRms - 0.18) < 1e-3, `0.9 − 0.8·0.9 = 0.18: ${s.tdErrorRms}`);
  t.equal(s.suspected, false, 'below the limit');
  const w = new DriftMonitor({ gammaRisk: 0.5, window: 1 });
  w.observe(0.4, true, false, false);
  w.observe(Number.NaN, false, false, false);
  w.observe(0.4, true, false, false);
  t.equal(w.snapshot().tdErrorRms, null, 'no target spans a fail-safe tick');
  const none = new DriftMonitor();
  none.observe(0.1, true, true, true);
  t.same(none.snapshot(), { transitions: 1, violations: 1, missedViolations: 1, tdErrorRms: null, suspected: true }, 'without γ_risk only missed violations count');
});

void t.test('signs() names what raised the suspicion; interrupt() keeps a TD target from spanning a gap', async (t) => {
  const m = new DriftMonitor({ gammaRisk: 0.5, window: 2, tdErrorLimit: 0.25, missedLimit: 2 });
  m.observe(0.9, true, false, false);
  t.same(m.signs(), [], 'no target yet, no missed violation');
  m.observe(0.9, true, false, false);
  m.observe(0.9, true, false, false);
  t.same(m.signs(), ['TD-error RMS 0.4500 > 0.25'], '0.9 − 0.5·0.9 over 2 targets');
  m.observe(0.1, true, true, true);
  t.equal(m.snapshot().missedViolations, 1);
  t.same(m.signs().length, 1, 'one missed violation is under the limit of 2');
  m.observe(0.1, true, true, true);
  t.match(m.signs(), ['missed violations 2', /^TD-error RMS/]);
  t.equal(m.snapshot().suspected, true);

  const g = new DriftMonitor({ gammaRisk: 0.5, window: 1 });
  g.observe(0.4, true, false, false);
  g.interrupt();
  g.observe(0.4, true, false, false);
  t.equal(g.snapshot().tdErrorRms, null, 'the pending step never met its s′: no target');
  t.same(g.signs(), []);
});
