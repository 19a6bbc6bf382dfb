import t from 'tap';
import { chooseEps, defaultGrid, interventionRate, sweepHeldOut, violationRate, type CalibrationRow } from '../../src/learn/calibration.js';

// Two episodes: 0 violates (rows 1 and 2 are within k of the violation), 1 is safe throughout.
const scores = [0.1, 0.4, 0.7, 0.2, 0.3, 0.5];
const labels = [0, 1, 1, 0, 0, 0];
const episode = [0, 0, 0, 1, 1, 1];

void t.test('the held-out sweep counts flagged rows, recall, false alarms and missed violating episodes', async (t) => {
  const { totals, points } = sweepHeldOut(scores, labels, episode, [0.3, 0.6, 0.8]);
  t.same(totals, { rows: 6, positives: 2, episodes: 2, violatingEpisodes: 1 });
  // ε 0.3: flagged 0.4, 0.7, 0.3, 0.5 → 4 of 6; both positives; 2 of 4 negatives; the episode is caught.
  t.same(points[0], { flaggedShare: 4 / 6, falseAlarmShare: 2 / 4, recall: 1, missedViolations: 0 });
  // ε 0.6: only 0.7 flagged; it is a positive row, so the violating episode is still caught.
  t.same(points[1], { flaggedShare: 1 / 6, falseAlarmShare: 0, recall: 1 / 2, missedViolations: 0 });
  // ε 0.8: nothing flagged: the violation is missed.
  t.same(points[2], { flaggedShare: 0, falseAlarmShare: 0, recall: 0, missedViolations: 1 });
  t.throws(() => sweepHeldOut(scores, labels.slice(1), episode, [0.5]), /differ in length/);
});

const row = (eps: number, violations: number, interventions: number): CalibrationRow => ({
  eps,
  heldOut: { flaggedShare: 1 - eps, falseAlarmShare: 0, recall: 0, missedViolations: Math.round(10 * eps) },
  rollout: { episodes: 20, successes: 20 - violations, violations, interventions, ticks: 100 },
});
const totals = { rows: 100, positives: 10, episodes: 20, violatingEpisodes: 5 };

void t.test('the target picks the largest ε that, with every smaller one, meets the violation rate', async (t) => {
  // ε 0.4 passes by luck above a failing 0.3: not taken.
  const rows = [row(0.1, 0, 40), row(0.2, 1, 30), row(0.3, 3, 20), row(0.4, 1, 10)];
  t.equal(violationRate(rows[1]!, totals), 1 / 20, 'rollouts: violating episodes over episodes');
  t.match(chooseEps(rows, totals, { kind: 'violation-rate', max: 0.05 }), { eps: 0.2 });
  t.match(chooseEps(rows, totals, { kind: 'violation-rate', max: 0.2 }), { eps: 0.4 });
  const none = chooseEps([row(0.5, 5, 1)], totals, { kind: 'violation-rate', max: 0.1 });
  t.equal(none.eps, null);
  t.match(none, { reason: /no ε meets violation rate ≤ 0.1: the smallest, ε 0.5, gives 0.250/ });
});

void t.test('max-interventions picks the smallest ε that, with every larger one, stays under the limit', async (t) => {
  const rows = [row(0.1, 0, 40), row(0.2, 1, 15), row(0.3, 3, 25), row(0.4, 1, 10)];
  t.equal(interventionRate(rows[0]!), 0.4);
  t.match(chooseEps(rows, totals, { kind: 'max-interventions', max: 0.2 }), { eps: 0.4 }, '0.2 passes but 0.3 does not');
  t.match(chooseEps(rows, totals, { kind: 'max-interventions', max: 0.3 }), { eps: 0.2 });
  t.match(chooseEps(rows, totals, { kind: 'max-interventions', max: 0.05 }), { eps: null, reason: /largest, ε 0.4, gives 0.100/ });
});

void t.test('without rollouts the rates come from the held-out data', async (t) => {
  const r: CalibrationRow = { eps: 0.5, heldOut: { flaggedShare: 0.25, falseAlarmShare: 0.1, recall: 0.8, missedViolations: 2 } };
  t.equal(violationRate(r, totals), 2 / 20, 'missed violating episodes over held-out episodes');
  t.equal(interventionRate(r), 0.25, 'the share of held-out ticks flagged');
  t.same(defaultGrid().slice(0, 3), [0.05, 0.1, 0.15]);
  t.equal(defaultGrid().at(-1), 0.95);
});
